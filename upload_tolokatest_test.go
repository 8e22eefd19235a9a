package toloka_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/tolokatest"
)

// uploadFixtures: project 1 takes an image url; pool 1 mixes tasks (POST
// /tasks), pool 2 takes suites (POST /task-suites); both default overlap 3.
const uploadFixtures = `{
  "projects": [{"id": "1", "task_spec": {
    "input_spec": {"image": {"type": "url", "required": true}},
    "output_spec": {"result": {"type": "string", "required": true}}}}],
  "pools": [
    {"id": "1", "project_id": "1", "mixer_config": {"real_tasks_count": 5, "golden_tasks_count": 0, "training_tasks_count": 0},
     "defaults": {"default_overlap_for_new_tasks": 3, "default_overlap_for_new_task_suites": 3}},
    {"id": "2", "project_id": "1", "defaults": {"default_overlap_for_new_task_suites": 3}}
  ]
}`

// newUploadServer starts a seeded fake and a client for it whose retries
// never sleep.
func newUploadServer(t *testing.T, retry toloka.RetryPolicy, opts ...tolokatest.Option) (*tolokatest.Server, *toloka.Client) {
	t.Helper()
	s := tolokatest.NewServerT(t, opts...)
	require.NoError(t, s.LoadFixtures(strings.NewReader(uploadFixtures)))
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	c, err := s.Client(toloka.WithRetryPolicy(retry), toloka.WithRetryHooks(noSleep, nil, nil))
	require.NoError(t, err)
	return s, c
}

// fastWaits polls operations every millisecond instead of every second.
func fastWaits() toloka.WaitOptions {
	return toloka.WaitOptions{FirstDelay: time.Millisecond, Interval: time.Millisecond, MaxInterval: time.Millisecond}
}

// imageURL is input i's unique image; "bad" inputs fail the url check.
func imageURL(i int, bad bool) string {
	if bad {
		return fmt.Sprintf("not a url %d", i)
	}
	return fmt.Sprintf("https://example.com/img/%07d.png", i)
}

// results collects OnResult calls by index; calls are serialized by the
// uploader, the lock is for the race detector's sake across uploads.
type results struct {
	mu    sync.Mutex
	by    map[int64][]toloka.ItemResult
	calls int
}

func newResults() *results { return &results{by: map[int64][]toloka.ItemResult{}} }

func (r *results) add(res toloka.ItemResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.by[res.Index] = append(r.by[res.Index], res)
	r.calls++
}

// single returns each index's only result, failing on an index reported twice.
func (r *results) single(t *testing.T) map[int64]toloka.ItemResult {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[int64]toloka.ItemResult{}
	for i, rs := range r.by {
		require.Len(t, rs, 1, "index %d reported %d times", i, len(rs))
		out[i] = rs[0]
	}
	return out
}

// inputSource builds one of the three input kinds from the same items.
type inputSource[T toloka.Task | toloka.TaskSuite] struct {
	name string
	make func(items []T) toloka.Source[T]
}

func inputKinds[T toloka.Task | toloka.TaskSuite](slice func([]T) toloka.Source[T], seq func(iter.Seq[T]) toloka.Source[T], jsonl func(r *bytes.Reader) toloka.Source[T]) []inputSource[T] {
	return []inputSource[T]{
		{"slice", slice},
		{"seq", func(items []T) toloka.Source[T] {
			return seq(func(yield func(T) bool) {
				for _, it := range items {
					if !yield(it) {
						return
					}
				}
			})
		}},
		{"jsonl", func(items []T) toloka.Source[T] {
			var buf bytes.Buffer
			for _, it := range items {
				line, err := json.Marshal(it)
				if err != nil {
					panic(err)
				}
				buf.Write(line)
				buf.WriteByte('\n')
			}
			return jsonl(bytes.NewReader(buf.Bytes()))
		}},
	}
}

func TestUploadTasksToTolokatest(t *testing.T) {
	t.Parallel()
	const n = 23
	bad := map[int]bool{4: true, 17: true}
	tasks := make([]toloka.Task, n)
	for i := range tasks {
		tasks[i] = toloka.Task{PoolID: "1", InputValues: toloka.Values{"image": imageURL(i, bad[i])}}
	}
	kinds := inputKinds(toloka.TasksFromSlice, toloka.TasksFromSeq, func(r *bytes.Reader) toloka.TaskSource { return toloka.TasksFromJSONL(r) })
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			s, c := newUploadServer(t, toloka.DefaultRetryPolicy(), tolokatest.WithPace(tolokatest.FinishAfterPolls(2)))
			res := newResults()
			sum, err := c.UploadTasks(context.Background(), kind.make(tasks),
				toloka.WithBatchSize(5), toloka.WithConcurrency(2), toloka.OnResult(res.add),
				toloka.WithCallOptions(toloka.CreateOptions{AllowDefaults: true}, fastWaits()))
			require.NoError(t, err)
			assert.EqualValues(t, n, sum.Read)
			assert.EqualValues(t, n-len(bad), sum.Created)
			assert.EqualValues(t, len(bad), sum.Rejected)

			stored := map[string]toloka.Task{}
			for _, task := range s.Tasks("1") {
				stored[task.ID] = task
			}
			require.Len(t, stored, n-len(bad))
			got := res.single(t)
			require.Len(t, got, n)
			for i := range n {
				r := got[int64(i)]
				if bad[i] {
					require.Equal(t, toloka.ItemRejected, r.Status, "task %d", i)
					require.NotEmpty(t, r.Errors)
					assert.Equal(t, "input_values.image", r.Errors[0].Field)
					continue
				}
				require.Equal(t, toloka.ItemCreated, r.Status, "task %d: %v", i, r.Err)
				task, ok := stored[r.ID]
				require.True(t, ok, "task %d: id %s not on the server", i, r.ID)
				assert.Equal(t, tasks[i].InputValues["image"], task.InputValues["image"], "task %d", i)
				assert.Equal(t, toloka.FiniteOverlap(3), task.Overlap)
			}
		})
	}
}

func TestUploadTaskSuitesToTolokatest(t *testing.T) {
	t.Parallel()
	const n = 12
	suites := make([]toloka.TaskSuite, n)
	for i := range suites {
		suites[i] = toloka.TaskSuite{PoolID: "2", Tasks: []toloka.SuiteTask{
			{InputValues: toloka.Values{"image": imageURL(2*i, false)}},
			{InputValues: toloka.Values{"image": imageURL(2*i+1, i == 7)}},
		}}
	}
	kinds := inputKinds(toloka.TaskSuitesFromSlice, toloka.TaskSuitesFromSeq, func(r *bytes.Reader) toloka.TaskSuiteSource { return toloka.TaskSuitesFromJSONL(r) })
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			s, c := newUploadServer(t, toloka.DefaultRetryPolicy())
			res := newResults()
			sum, err := c.UploadTaskSuites(context.Background(), kind.make(suites),
				toloka.WithBatchSize(4), toloka.WithConcurrency(3), toloka.OnResult(res.add),
				toloka.WithCallOptions(toloka.CreateOptions{AllowDefaults: true}, fastWaits()))
			require.NoError(t, err)
			assert.EqualValues(t, n-1, sum.Created)
			assert.EqualValues(t, 1, sum.Rejected)

			stored := map[string]toloka.TaskSuite{}
			for _, su := range s.TaskSuites("2") {
				stored[su.ID] = su
			}
			require.Len(t, stored, n-1)
			got := res.single(t)
			require.Len(t, got, n)
			for i := range n {
				r := got[int64(i)]
				if i == 7 {
					require.Equal(t, toloka.ItemRejected, r.Status)
					assert.Equal(t, "tasks.1.input_values.image", r.Errors[0].Field)
					continue
				}
				require.Equal(t, toloka.ItemCreated, r.Status, "suite %d: %v", i, r.Err)
				su, ok := stored[r.ID]
				require.True(t, ok, "suite %d: id %s not on the server", i, r.ID)
				require.Len(t, su.Tasks, 2)
				assert.Equal(t, suites[i].Tasks[1].InputValues["image"], su.Tasks[1].InputValues["image"])
			}
		})
	}
}

// TestUploadCrashAndRerun kills a first run part-way — by cancelling its
// context after some batches, and by losing the answers to requests the
// server applied — then reruns the same upload id and input: the server
// must hold every input exactly once and the rerun must account for every
// item.
func TestUploadCrashAndRerun(t *testing.T) {
	t.Parallel()
	const n, batch = 90, 5
	tasks := make([]toloka.Task, n)
	for i := range tasks {
		tasks[i] = toloka.Task{PoolID: "1", InputValues: toloka.Values{"image": imageURL(i, false)}}
	}
	for _, tc := range []struct {
		name string
		// crash sets up the first run's failure; it returns the run's ctx.
		crash func(s *tolokatest.Server) (context.Context, toloka.UploadOption)
	}{
		{"cancelled after 4 batches", func(*tolokatest.Server) (context.Context, toloka.UploadOption) {
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			return ctx, toloka.OnProgress(func(p toloka.UploadProgress) {
				if p.Batches >= 4 {
					cancel()
				}
			})
		}},
		{"answers lost after apply", func(s *tolokatest.Server) (context.Context, toloka.UploadOption) {
			// No retries in the first run: each lost answer fails its batch,
			// which the server has applied nonetheless.
			s.InjectFault(tolokatest.RouteCreateTasks, 3, tolokatest.DropAfterApply())
			return context.Background(), toloka.StopOnError()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, c := newUploadServer(t, toloka.RetryPolicy{}) // the zero policy never retries
			ctx, crash := tc.crash(s)
			first := newResults()
			opts := func(extra ...toloka.UploadOption) []toloka.UploadOption {
				return append([]toloka.UploadOption{toloka.WithUploadID("crash-and-rerun"), toloka.WithBatchSize(batch),
					toloka.WithConcurrency(2), toloka.WithCallOptions(toloka.CreateOptions{AllowDefaults: true}, fastWaits())}, extra...)
			}
			sum, err := c.UploadTasks(ctx, toloka.TasksFromSlice(tasks), opts(crash, toloka.OnResult(first.add))...)
			require.ErrorIs(t, err, toloka.ErrUploadIncomplete)
			require.Less(t, sum.Created, int64(n), "the first run must stop part-way")
			require.Positive(t, s.TaskCount("1"), "the first run must have created something")
			s.ClearFaults() // faults the first run did not meet must not hit the rerun

			second := newResults()
			sum2, err := c.UploadTasks(context.Background(), toloka.TasksFromSlice(tasks), opts(toloka.OnResult(second.add))...)
			require.NoError(t, err)
			assert.EqualValues(t, n, sum2.Created)
			assert.Positive(t, s.RequestCount(tolokatest.RouteCreateTasks, 409), "the rerun must meet the first run's operations")

			// Zero duplicates: every input once on the server.
			images := map[string]string{}
			for _, task := range s.Tasks("1") {
				img := task.InputValues["image"].(string)
				require.NotContains(t, images, img, "input %s created twice", img)
				images[img] = task.ID
			}
			require.Len(t, images, n)
			// Every item accounted for by the rerun, with the server's id;
			// the first run's created ids agree with it.
			got := second.single(t)
			require.Len(t, got, n)
			for i := range n {
				r := got[int64(i)]
				require.Equal(t, toloka.ItemCreated, r.Status, "task %d: %v", i, r.Err)
				assert.Equal(t, images[imageURL(i, false)], r.ID, "task %d", i)
			}
			for i, rs := range first.by {
				for _, r := range rs {
					if r.Status == toloka.ItemCreated {
						assert.Equal(t, got[i].ID, r.ID, "task %d", i)
					}
				}
			}
		})
	}
}

// sharedClock is the fake's ManualClock seen by the uploader: sleeping moves
// it, so the pacer and the server's quota run on the same time, sleep-free.
type sharedClock struct{ *tolokatest.ManualClock }

func (c sharedClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(t.Sub(c.Now()))
	return nil
}

func TestUploadPacedUnderServerQuota(t *testing.T) {
	t.Parallel()
	clk := sharedClock{tolokatest.NewManualClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))}
	s, c := newUploadServer(t, toloka.RetryPolicy{}, tolokatest.WithClock(clk),
		tolokatest.WithTaskQuota(tolokatest.Quota{PerMinute: 20}))
	start := clk.Now()
	sum, err := c.UploadTasks(context.Background(), toloka.TasksFromSlice(tasksFor(60)),
		// One batch at a time: a sleeping worker moves the shared clock for
		// everyone, which real time never does.
		toloka.WithBatchSize(5), toloka.WithConcurrency(1), toloka.WithItemQuota(20, 0), toloka.WithUploadClock(clk),
		toloka.WithCallOptions(toloka.CreateOptions{AllowDefaults: true}, fastWaits()))
	require.NoError(t, err, "no batch may meet the quota")
	assert.EqualValues(t, 60, sum.Created)
	assert.Zero(t, s.RequestCount(tolokatest.RouteCreateTasks, 429))
	// Three quota windows' worth: the last third waits two windows (each a
	// minute plus the pacer's one-second slot).
	assert.Equal(t, 122*time.Second, clk.Now().Sub(start))
	assert.Equal(t, 122*time.Second, sum.Duration)
}

func tasksFor(n int) []toloka.Task {
	tasks := make([]toloka.Task, n)
	for i := range tasks {
		tasks[i] = toloka.Task{PoolID: "1", InputValues: toloka.Values{"image": imageURL(i, false)}}
	}
	return tasks
}

// A rerun whose batches carry other items than the first run's (here the
// first run's validation left an item out, the rerun skips validation) still
// picks up the first run's operations: the created tasks are reported with
// their ids, nothing is created twice, and the item the old operation never
// carried is reported as failed, not lost.
func TestUploadRerunWithDifferentBatches(t *testing.T) {
	t.Parallel()
	s, c := newUploadServer(t, toloka.RetryPolicy{})
	tasks := tasksFor(5)
	tasks[2].InputValues["image"] = imageURL(2, true) // refused by the client's url check
	opts := func(extra ...toloka.UploadOption) []toloka.UploadOption {
		return append([]toloka.UploadOption{toloka.WithUploadID("rerun-different-batches"),
			toloka.WithCallOptions(toloka.CreateOptions{AllowDefaults: true}, fastWaits())}, extra...)
	}
	sum, err := c.UploadTasks(context.Background(), toloka.TasksFromSlice(tasks), opts()...)
	require.NoError(t, err)
	require.EqualValues(t, 4, sum.Created)
	require.EqualValues(t, 1, sum.Rejected)

	rerun := newResults()
	sum2, err := c.UploadTasks(context.Background(), toloka.TasksFromSlice(tasks),
		append(opts(toloka.OnResult(rerun.add)), toloka.WithCallOptions(toloka.SkipValidation()))...)
	require.ErrorIs(t, err, toloka.ErrUploadIncomplete)
	assert.EqualValues(t, 4, sum2.Created, "the first run's tasks are picked up")
	assert.EqualValues(t, 1, sum2.Failed)
	got := rerun.single(t)
	assert.Equal(t, toloka.ItemFailed, got[2].Status)
	assert.ErrorContains(t, got[2].Err, "reported no outcome")
	assert.Equal(t, 4, s.TaskCount("1"), "nothing was created twice")
}

// Log entries about no single item (the POOL_OPEN step of open_pool) reach
// the summary instead of vanishing.
func TestUploadReportsStepsAboutNoItem(t *testing.T) {
	t.Parallel()
	_, c := newUploadServer(t, toloka.RetryPolicy{})
	sum, err := c.UploadTasks(context.Background(), toloka.TasksFromSlice(tasksFor(7)), toloka.WithBatchSize(5),
		toloka.WithCallOptions(toloka.CreateOptions{AllowDefaults: true, OpenPool: true}, fastWaits()))
	require.NoError(t, err)
	assert.EqualValues(t, 7, sum.Created)
	require.Equal(t, 1, sum.LogEntryCount, "the first batch opens the pool; the second finds it open")
	for _, e := range sum.LogEntries {
		assert.Equal(t, toloka.LogPoolOpen, e.Type)
	}
}
