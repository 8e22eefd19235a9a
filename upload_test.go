package toloka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"iter"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUploadTasksFromEverySource(t *testing.T) {
	t.Parallel()
	tasks := imageTasks(23)
	tasks[4].InputValues["image"] = "server-bad" // Toloka rejects it
	tasks[9].PoolID = ""                         // validation rejects it, never sent

	sources := map[string]func() TaskSource{
		"slice": func() TaskSource { return TasksFromSlice(tasks) },
		"seq":   func() TaskSource { return TasksFromSeq(slices.Values(tasks)) },
		"jsonl": func() TaskSource { return TasksFromJSONL(bytes.NewReader(jsonl(t, tasks))) },
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clk := newUploadFakeClock()
			fake := newFakeToloka(t, clk)
			res := newResults()
			sum, err := testClient(t).UploadTasks(context.Background(), src(),
				WithBatchSize(5), WithUploadID("u1"), withRunner(fake.run), withClock(clk), OnResult(res.add))
			require.NoError(t, err)

			assert.Equal(t, "u1", sum.UploadID)
			assert.EqualValues(t, 23, sum.Read)
			assert.EqualValues(t, 22, sum.Sent)
			assert.EqualValues(t, 21, sum.Created)
			assert.EqualValues(t, 2, sum.Rejected)
			assert.Zero(t, sum.Failed)
			assert.Equal(t, 5, sum.Batches)
			assert.Equal(t, 23, res.n, "one result per input item")

			for i := range int64(23) {
				r := res.get(i)
				require.Equal(t, i, r.Index)
				switch i {
				case 4:
					require.Equal(t, ItemRejected, r.Status)
					assert.Equal(t, "INVALID_URL_SYNTAX", r.Errors[0].Code)
					assert.Equal(t, 4, r.Errors[0].Index, "field errors carry the global index")
					assert.Equal(t, "tasks[4].input_values.image", r.Errors[0].Path())
				case 9:
					require.Equal(t, ItemRejected, r.Status)
					assert.Equal(t, "pool_id", r.Errors[0].Field)
					assert.Equal(t, 9, r.Errors[0].Index)
				default:
					require.Equal(t, ItemCreated, r.Status, "item %d", i)
					assert.Equal(t, i, fake.created[r.ID], "the id belongs to item %d", i)
				}
				assert.Equal(t, int(i/5), r.Batch)
				assert.Equal(t, operationIDFor("u1", collectionTasks, int(i/5)), r.OperationID)
			}
			for _, b := range fake.batches() {
				assert.NotContains(t, b.Indexes, int64(9), "an invalid item is never sent")
			}
		})
	}
}

func TestUploadTaskSuitesFromEverySource(t *testing.T) {
	t.Parallel()
	suites := make([]TaskSuite, 7)
	for i := range suites {
		suites[i] = imageSuite(i)
	}
	suites[2].Tasks[0].InputValues["image"] = "server-bad"
	suites[5].Tasks = nil // validation: a suite needs tasks

	sources := map[string]func() TaskSuiteSource{
		"slice": func() TaskSuiteSource { return TaskSuitesFromSlice(suites) },
		"seq":   func() TaskSuiteSource { return TaskSuitesFromSeq(slices.Values(suites)) },
		"jsonl": func() TaskSuiteSource { return TaskSuitesFromJSONL(bytes.NewReader(jsonl(t, suites))) },
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clk := newUploadFakeClock()
			fake := newFakeToloka(t, clk)
			res := newResults()
			sum, err := testClient(t).UploadTaskSuites(context.Background(), src(),
				WithBatchSize(3), WithUploadID("s1"), withRunner(fake.run), withClock(clk), OnResult(res.add))
			require.NoError(t, err)
			assert.EqualValues(t, 5, sum.Created)
			assert.EqualValues(t, 2, sum.Rejected)
			assert.Equal(t, 3, sum.Batches)
			assert.Equal(t, ItemRejected, res.get(2).Status)
			assert.Equal(t, "task_suites[2].input_values.image", res.get(2).Errors[0].Path())
			assert.Equal(t, ItemRejected, res.get(5).Status)
			assert.Equal(t, "tasks", res.get(5).Errors[0].Field)
			assert.Equal(t, ItemCreated, res.get(6).Status)
			assert.Equal(t, operationIDFor("s1", collectionTaskSuites, 2), res.get(6).OperationID)
			assert.NotEqual(t, operationIDFor("s1", collectionTasks, 2), res.get(6).OperationID,
				"tasks and suites with one upload id never share an operation")
		})
	}
}

// sizedTask returns a task whose input_values encode to exactly n bytes.
func sizedTask(t *testing.T, n int) Task {
	t.Helper()
	const frame = len(`{"text":""}`)
	task := Task{PoolID: "1", Overlap: FiniteOverlap(1), InputValues: Values{"text": strings.Repeat("a", n-frame)}}
	data, err := json.Marshal(task.InputValues)
	require.NoError(t, err)
	require.Len(t, data, n)
	return task
}

// solvedTask returns a task whose known solution's output_values encode to
// exactly n bytes.
func solvedTask(t *testing.T, n int) Task {
	t.Helper()
	const frame = len(`{"answer":""}`)
	task := imageTask(0)
	task.KnownSolutions = []KnownSolution{{OutputValues: Values{"answer": strings.Repeat("b", n-frame)}}}
	return task
}

func TestUploadBatchesByInputBytes(t *testing.T) {
	t.Parallel()
	const limit = MaxInputValuesBytes
	tasks := []Task{
		sizedTask(t, limit/2),   // 0: batch 0
		sizedTask(t, limit/2),   // 1: batch 0, exactly full
		sizedTask(t, 100),       // 2: batch 1 (closes 0 before overflowing)
		sizedTask(t, limit+1),   // 3: rejected: over the budget alone
		sizedTask(t, limit),     // 4: exactly the budget: batch 2, alone
		sizedTask(t, 20),        // 5: batch 3
		sizedTask(t, limit-100), // 6: batch 3 with item 5
		sizedTask(t, 100),       // 7: batch 4 (20+limit-100+100 > limit)
	}
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	res := newResults()
	sum, err := testClient(t).UploadTasks(context.Background(), TasksFromSlice(tasks),
		WithUploadID("bytes"), withRunner(fake.run), withClock(clk), OnResult(res.add))
	require.NoError(t, err)

	var got [][]int64
	for _, b := range fake.batches() {
		got = append(got, b.Indexes)
	}
	assert.Equal(t, [][]int64{{0, 1}, {2}, {4}, {5, 6}, {7}}, got)
	assert.Equal(t, 5, sum.Batches)

	r := res.get(3)
	require.Equal(t, ItemRejected, r.Status)
	assert.Equal(t, -1, r.Batch, "never batched")
	assert.Equal(t, CodeObjectSizeTooLarge, r.Errors[0].Code)
	assert.Equal(t, "input_values", r.Errors[0].Field)
	assert.Equal(t, 3, r.Errors[0].Index)
	assert.Contains(t, r.Errors[0].Message, "1048577 bytes")
	assert.Equal(t, ItemCreated, res.get(4).Status, "an item exactly at the budget is sent")
}

func TestUploadBatchesByOutputBytes(t *testing.T) {
	t.Parallel()
	const limit = MaxOutputValuesBytes
	tasks := []Task{
		solvedTask(t, limit/4),   // 0
		solvedTask(t, limit/4),   // 1
		solvedTask(t, limit/4),   // 2
		solvedTask(t, limit/4+1), // 3: would pass 4 MiB → next batch
		solvedTask(t, limit+1),   // 4: rejected alone
		solvedTask(t, limit),     // 5: alone at the limit
	}
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	res := newResults()
	_, err := testClient(t).UploadTasks(context.Background(), TasksFromSlice(tasks),
		WithUploadID("out"), withRunner(fake.run), withClock(clk), OnResult(res.add))
	require.NoError(t, err)
	var got [][]int64
	for _, b := range fake.batches() {
		got = append(got, b.Indexes)
	}
	assert.Equal(t, [][]int64{{0, 1, 2}, {3}, {5}}, got)
	require.Equal(t, ItemRejected, res.get(4).Status)
	assert.Equal(t, "output_values", res.get(4).Errors[0].Field)
	assert.Equal(t, CodeObjectSizeTooLarge, res.get(4).Errors[0].Code)
}

func TestUploadIsDeterministic(t *testing.T) {
	t.Parallel()
	// Mixed sizes, so both count and bytes close batches.
	tasks := imageTasks(40)
	for _, i := range []int{3, 5, 20, 22} {
		tasks[i] = sizedTask(t, MaxInputValuesBytes/2+1) // two never share a batch
	}
	runOnce := func(id string) []sentBatch {
		clk := newUploadFakeClock()
		fake := newFakeToloka(t, clk)
		_, err := testClient(t).UploadTasks(context.Background(), TasksFromSeq(slices.Values(tasks)),
			WithBatchSize(6), WithConcurrency(3), WithUploadID(id), withRunner(fake.run), withClock(clk))
		require.NoError(t, err)
		got := fake.batches()
		for i := range got {
			got[i].At = time.Time{}
		}
		return got
	}
	first, second := runOnce("same"), runOnce("same")
	assert.Equal(t, first, second, "same input, options and id: same batches and operation ids")
	assert.Equal(t, []int64{0, 1, 2, 3, 4}, first[0].Indexes, "item 5 would pass 1 MiB: the batch closes before it")
	other := runOnce("other")
	require.Equal(t, len(first), len(other))
	for i := range first {
		assert.Equal(t, first[i].Indexes, other[i].Indexes)
		assert.NotEqual(t, first[i].OperationID, other[i].OperationID)
	}
	seen := map[string]bool{}
	for _, b := range first {
		assert.False(t, seen[b.OperationID], "operation ids are unique within an upload")
		seen[b.OperationID] = true
	}
	assert.Equal(t, "0cce0ef9", operationIDFor("same", collectionTasks, 0)[:8], "the derivation must never change: reruns of old uploads depend on it")
}

func TestUploadResumeCreatesNothingTwice(t *testing.T) {
	t.Parallel()
	tasks := imageTasks(50)
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk) // one server across both runs
	const crashAt = 3
	var crashed atomic.Bool
	fake.failBatch = func(b *uploadBatch) (bool, bool) {
		if crashed.Load() {
			return false, false
		}
		// Batch crashAt is applied but its answer lost; later ones never arrive.
		return b.Ordinal >= crashAt, b.Ordinal == crashAt
	}

	first := newResults()
	sum, err := testClient(t).UploadTasks(context.Background(), TasksFromSlice(tasks),
		WithBatchSize(5), WithConcurrency(1), WithUploadID("resume-me"), withRunner(fake.run), withClock(clk), OnResult(first.add))
	require.ErrorIs(t, err, ErrUploadIncomplete)
	var ue *UploadError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "resume-me", ue.UploadID)
	assert.Equal(t, 7, ue.FailedBatches)
	assert.EqualValues(t, 35, ue.FailedItems)
	assert.Contains(t, err.Error(), `WithUploadID("resume-me")`)
	assert.Contains(t, err.Error(), "connection reset by peer")
	assert.EqualValues(t, 15, sum.Created)
	assert.Equal(t, 7, sum.FailedBatchCount)
	require.Len(t, sum.FailedBatches, 7)
	assert.Equal(t, FailedBatch{Ordinal: 3, OperationID: operationIDFor("resume-me", collectionTasks, 3), FirstIndex: 15, LastIndex: 19, Items: 5, Err: sum.FailedBatches[0].Err}, sum.FailedBatches[0])
	assert.Equal(t, ItemFailed, first.get(17).Status)
	assert.ErrorContains(t, first.get(17).Err, "batch 3")
	assert.Equal(t, 4, fake.creates, "batches 0-3 reached the server")

	crashed.Store(true)
	second := newResults()
	sum, err = testClient(t).UploadTasks(context.Background(), TasksFromSlice(tasks),
		WithBatchSize(5), WithConcurrency(2), WithUploadID("resume-me"), withRunner(fake.run), withClock(clk), OnResult(second.add))
	require.NoError(t, err)
	assert.EqualValues(t, 50, sum.Created)
	assert.Equal(t, 10, fake.creates, "each of the 10 operations was created exactly once")
	assert.Len(t, fake.operations, 10)
	require.Len(t, fake.created, 50, "zero duplicates: one created task per input item")
	for i := range int64(50) {
		r := second.get(i)
		require.Equal(t, ItemCreated, r.Status)
		assert.Equal(t, i, fake.created[r.ID])
		if old := first.get(i); old.Status == ItemCreated {
			assert.Equal(t, old.ID, r.ID, "a batch created in the first run is picked up, not recreated")
		}
	}
	assert.Equal(t, first.get(17).OperationID, second.get(17).OperationID)
	assert.Equal(t, second.get(17).ID, "id-"+second.get(17).OperationID[:8]+"-2", "the applied-but-lost batch 3 keeps its first outcome")
}

func TestUploadBoundsConcurrencyAndReadsOnlyWhenASlotIsFree(t *testing.T) {
	t.Parallel()
	const (
		batchSize   = 10
		concurrency = 3
		batches     = 12
	)
	var pulls atomic.Int64
	seq := func(yield func(Task) bool) {
		for i := range batches * batchSize {
			pulls.Add(1)
			if !yield(imageTask(i)) {
				return
			}
		}
	}
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	entered := make(chan int, batches)
	release := make(chan struct{})
	var inFlight, maxInFlight, completed atomic.Int64
	fake.before = func(b *uploadBatch) {
		n := inFlight.Add(1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		// Backpressure: at most the batches in flight have been read.
		assert.LessOrEqual(t, pulls.Load(), (completed.Load()+concurrency)*batchSize)
		entered <- b.Ordinal
		<-release
	}
	run := func(ctx context.Context, b *uploadBatch) (batchOutcome, error) {
		out, err := fake.run(ctx, b)
		inFlight.Add(-1)
		completed.Add(1)
		return out, err
	}

	done := make(chan error, 1)
	go func() {
		_, err := testClient(t).UploadTasks(context.Background(), TasksFromSeq(seq),
			WithBatchSize(batchSize), WithConcurrency(concurrency), withRunner(run), withClock(clk))
		done <- err
	}()
	for range concurrency {
		select {
		case <-entered:
		case err := <-done:
			require.FailNow(t, "the upload ended before its batches reached the runner", "%v", err)
		}
	}
	// Every slot is busy: the dispatcher waits for one and reads nothing more.
	assert.EqualValues(t, concurrency*batchSize, pulls.Load())
	assert.Empty(t, entered)
	for range batches {
		release <- struct{}{}
	}
	require.NoError(t, <-done)
	assert.EqualValues(t, concurrency, maxInFlight.Load())
	assert.EqualValues(t, batches*batchSize, pulls.Load())
}

func TestUploadFailedBatchIsReportedAndOthersContinue(t *testing.T) {
	t.Parallel()
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	fake.failBatch = func(b *uploadBatch) (bool, bool) { return b.Ordinal == 1, false }
	res := newResults()
	var progress []UploadProgress
	sum, err := testClient(t).UploadTasks(context.Background(), TasksFromSlice(imageTasks(20)),
		WithBatchSize(5), WithConcurrency(1), withRunner(fake.run), withClock(clk), OnResult(res.add),
		OnProgress(func(p UploadProgress) { progress = append(progress, p) }))
	var ue *UploadError
	require.ErrorAs(t, err, &ue)
	assert.False(t, ue.Stopped)
	assert.NotEmpty(t, sum.UploadID, "a random upload id is reported for the rerun")
	assert.Equal(t, sum.UploadID, ue.UploadID)
	assert.EqualValues(t, 15, sum.Created)
	assert.EqualValues(t, 5, sum.Failed)
	for i := range int64(20) {
		want := ItemCreated
		if i >= 5 && i < 10 {
			want = ItemFailed
		}
		assert.Equal(t, want, res.get(i).Status, "item %d", i)
	}
	last := progress[len(progress)-1]
	assert.True(t, last.Done)
	assert.Equal(t, 1, last.FailedBatches)
	assert.Equal(t, 4, last.Batches)
}

func TestUploadStopOnErrorStopsReading(t *testing.T) {
	t.Parallel()
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	fake.failBatch = func(b *uploadBatch) (bool, bool) { return b.Ordinal == 1, false }
	sum, err := testClient(t).UploadTasks(context.Background(), TasksFromSlice(imageTasks(100)),
		WithBatchSize(5), WithConcurrency(1), StopOnError(), withRunner(fake.run), withClock(clk))
	var ue *UploadError
	require.ErrorAs(t, err, &ue)
	assert.True(t, ue.Stopped)
	assert.ErrorContains(t, err, "connection reset by peer")
	assert.LessOrEqual(t, sum.Read, int64(15), "reading stops after the failed batch")
	assert.Equal(t, sum.Read, sum.Created+sum.Rejected+sum.Failed, "every item read is settled")
}

func TestUploadCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	fake.before = func(b *uploadBatch) {
		if b.Ordinal == 2 {
			cancel()
		}
	}
	sum, err := testClient(t).UploadTasks(ctx, TasksFromSlice(imageTasks(100)),
		WithBatchSize(5), WithConcurrency(1), withRunner(fake.run), withClock(clk))
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, ErrUploadIncomplete)
	assert.EqualValues(t, 10, sum.Created)
	assert.Less(t, sum.Read, int64(100))
	assert.Equal(t, sum.Read, sum.Created+sum.Rejected+sum.Failed)
}

func TestUploadBatchEmptiedByValidationSendsNothing(t *testing.T) {
	t.Parallel()
	tasks := []Task{{PoolID: "", InputValues: Values{"image": "x"}, Overlap: FiniteOverlap(1)}}
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	res := newResults()
	sum, err := testClient(t).UploadTasks(context.Background(), TasksFromSlice(tasks),
		withRunner(fake.run), withClock(clk), OnResult(res.add))
	require.NoError(t, err)
	assert.EqualValues(t, 1, sum.Rejected)
	assert.Zero(t, sum.Sent)
	assert.Zero(t, fake.posts, "a batch left empty by validation sends nothing")
	assert.Equal(t, ItemRejected, res.get(0).Status)
	assert.Equal(t, 0, res.get(0).Batch)
}

func TestUploadSkipValidationSendsInvalidItems(t *testing.T) {
	t.Parallel()
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	tasks := []Task{{InputValues: Values{"image": "x"}}} // no pool, no overlap
	sum, err := testClient(t).UploadTasks(context.Background(), TasksFromSlice(tasks),
		WithCallOptions(SkipValidation()), withRunner(fake.run), withClock(clk))
	require.NoError(t, err)
	assert.EqualValues(t, 1, sum.Sent)
	assert.EqualValues(t, 1, sum.Created)
}

func TestUploadAllowDefaultsReachesValidation(t *testing.T) {
	t.Parallel()
	tasks := []Task{{PoolID: "1", InputValues: Values{"image": "x"}}} // no overlap
	for _, allow := range []bool{false, true} {
		clk := newUploadFakeClock()
		fake := newFakeToloka(t, clk)
		sum, err := testClient(t).UploadTasks(context.Background(), TasksFromSlice(tasks),
			WithCallOptions(CreateOptions{AllowDefaults: allow}), withRunner(fake.run), withClock(clk))
		require.NoError(t, err)
		assert.Equal(t, allow, sum.Created == 1, "allow_defaults=%v", allow)
	}
}

func TestUploadReportsRunnerMissingOutcomes(t *testing.T) {
	t.Parallel()
	clk := newUploadFakeClock()
	res := newResults()
	run := func(_ context.Context, b *uploadBatch) (batchOutcome, error) {
		out := batchOutcome{IDs: make([]string, b.Len())}
		out.IDs[0] = "only-the-first"
		return out, nil
	}
	sum, err := testClient(t).UploadTasks(context.Background(), TasksFromSlice(imageTasks(3)),
		withRunner(run), withClock(clk), OnResult(res.add))
	require.ErrorIs(t, err, ErrUploadIncomplete)
	assert.EqualValues(t, 1, sum.Created)
	assert.EqualValues(t, 2, sum.Failed)
	assert.ErrorContains(t, res.get(2).Err, "no outcome for tasks[2]")

	short := func(_ context.Context, b *uploadBatch) (batchOutcome, error) {
		return batchOutcome{IDs: make([]string, b.Len()-1)}, nil
	}
	sum, err = testClient(t).UploadTasks(context.Background(), TasksFromSlice(imageTasks(3)), withRunner(short), withClock(clk))
	require.ErrorContains(t, err, "2 outcomes for 3 items")
	assert.Equal(t, 1, sum.FailedBatchCount)
}

func TestUploadProgress(t *testing.T) {
	t.Parallel()
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	fake.perBatch = time.Second
	tasks := imageTasks(12)
	tasks[11].PoolID = ""
	var got []UploadProgress
	sum, err := testClient(t).UploadTasks(context.Background(), TasksFromSlice(tasks),
		WithBatchSize(4), WithConcurrency(1), withRunner(fake.run), withClock(clk),
		OnProgress(func(p UploadProgress) { got = append(got, p) }))
	require.NoError(t, err)
	require.Len(t, got, 4, "one call per batch and a last one")
	for i, p := range got[:3] {
		assert.False(t, p.Done)
		assert.EqualValues(t, 12, p.Total)
		assert.Equal(t, i+1, p.Batches)
		assert.Equal(t, time.Duration(i+1)*time.Second, p.Elapsed)
	}
	assert.EqualValues(t, 4, got[0].Created)
	assert.EqualValues(t, 4, got[0].ItemsPerSecond)
	last := got[3]
	assert.True(t, last.Done)
	assert.EqualValues(t, 12, last.Read)
	assert.EqualValues(t, 11, last.Sent)
	assert.EqualValues(t, 11, last.Created)
	assert.EqualValues(t, 1, last.Rejected)
	assert.EqualValues(t, 4, last.ItemsPerSecond, "12 items in 3 s")
	assert.Equal(t, 3*time.Second, sum.Duration)
}

func TestUploadOptionErrors(t *testing.T) {
	t.Parallel()
	c := testClient(t)
	src := TasksFromSlice(imageTasks(1))
	for name, tc := range map[string]struct {
		src  TaskSource
		opts []UploadOption
		want string
	}{
		"batch size 0":     {src, []UploadOption{WithBatchSize(0)}, "WithBatchSize(0): use 1 to 10000"},
		"batch size big":   {src, []UploadOption{WithBatchSize(10_001)}, "use 1 to 10000"},
		"concurrency":      {src, []UploadOption{WithConcurrency(0)}, "WithConcurrency(0)"},
		"empty upload id":  {src, []UploadOption{WithUploadID(" ")}, "non-empty id"},
		"quota below size": {src, []UploadOption{WithItemQuota(1000, 0)}, "batch size 5000 is above the quota of 1000 items per minute"},
		"zero source":      {TaskSource{}, nil, "build it with TasksFromSlice"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sum, err := c.UploadTasks(context.Background(), tc.src, tc.opts...)
			require.ErrorContains(t, err, tc.want)
			assert.Nil(t, sum)
		})
	}
}

func TestUploadPacesAtTheQuota(t *testing.T) {
	t.Parallel()
	const (
		perMinute = 1000
		batchSize = 50
		items     = 5000
	)
	clk := newUploadFakeClock()
	start := clk.Now()
	fake := newFakeToloka(t, clk)
	seq := iter.Seq[Task](func(yield func(Task) bool) {
		for i := range items {
			if !yield(imageTask(i)) {
				return
			}
		}
	})
	sum, err := testClient(t).UploadTasks(context.Background(), TasksFromSeq(seq),
		WithBatchSize(batchSize), WithConcurrency(1), WithItemQuota(perMinute, 0),
		withRunner(fake.run), withClock(clk))
	require.NoError(t, err)
	assert.EqualValues(t, items, sum.Created)
	assert.Zero(t, sum.FailedBatchCount)

	sent := fake.batches()
	sort.SliceStable(sent, func(i, j int) bool { return sent[i].At.Before(sent[j].At) })
	// No minute-long window, wherever it starts, holds more than the quota.
	for i := range sent {
		var n int
		for j := i; j < len(sent) && sent[j].At.Sub(sent[i].At) < time.Minute; j++ {
			n += len(sent[j].Indexes)
		}
		require.LessOrEqual(t, n, perMinute, "window starting at batch %d", sent[i].Ordinal)
	}
	// And the upload runs at the quota: the first minute's burst plus the
	// quota rate for the rest, within the one-slot safety margin.
	elapsed := sent[len(sent)-1].At.Sub(start)
	rate := float64(items-perMinute) / elapsed.Minutes()
	assert.GreaterOrEqual(t, rate, 0.95*perMinute, "sustained %.0f items/min", rate)
	assert.NotEmpty(t, clk.recordedWaits())
}

func TestUploadResultCallbacksAreSerialized(t *testing.T) {
	t.Parallel()
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	var inCallback atomic.Int32
	var mu sync.Mutex
	var overlaps int
	_, err := testClient(t).UploadTasks(context.Background(), TasksFromSlice(imageTasks(200)),
		WithBatchSize(7), WithConcurrency(8), withRunner(fake.run), withClock(clk),
		OnResult(func(ItemResult) {
			if inCallback.Add(1) > 1 {
				mu.Lock()
				overlaps++
				mu.Unlock()
			}
			inCallback.Add(-1)
		}))
	require.NoError(t, err)
	assert.Zero(t, overlaps)
}

func TestUploadErrorMessage(t *testing.T) {
	t.Parallel()
	err := &UploadError{UploadID: "u", FailedBatches: 2, FailedItems: 10, Stopped: true, Err: errors.New("boom")}
	assert.Equal(t, `toloka: upload u incomplete: 2 batch(es) with 10 item(s) failed: stopped before the end of the input: boom; rerun with WithUploadID("u") and the same input and options to resume`, err.Error())
	assert.ErrorIs(t, err, ErrUploadIncomplete)
	assert.Equal(t, "created", ItemCreated.String())
	assert.Equal(t, "rejected", ItemRejected.String())
	assert.Equal(t, "failed", ItemFailed.String())
	assert.Equal(t, "ItemStatus(9)", ItemStatus(9).String())
}

// An item read but held back because it did not fit the open batch's byte
// budget must still be reported when the upload stops before its batch.
func TestUploadStopKeepsTheCarriedItem(t *testing.T) {
	t.Parallel()
	big := func(n int) []Task {
		tasks := make([]Task, n)
		for i := range tasks {
			tasks[i] = Task{PoolID: "1", Overlap: FiniteOverlap(1), InputValues: Values{"image": "https://example.com/" + strings.Repeat("x", 400<<10) + strconv.Itoa(i)}}
		}
		return tasks
	}
	for _, stopOnError := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		clk := newUploadFakeClock()
		fake := newFakeToloka(t, clk)
		if stopOnError {
			fake.failBatch = func(*uploadBatch) (bool, bool) { return true, false }
		} else {
			fake.before = func(*uploadBatch) { cancel() }
		}
		res := newResults()
		opts := []UploadOption{WithConcurrency(1), withRunner(fake.run), withClock(clk), OnResult(res.add), WithCallOptions(SkipValidation())}
		if stopOnError {
			opts = append(opts, StopOnError())
		}
		sum, err := testClient(t).UploadTasks(ctx, TasksFromSlice(big(10)), opts...)
		cancel()
		require.ErrorIs(t, err, ErrUploadIncomplete, "stopOnError=%v", stopOnError)
		assert.Equal(t, sum.Read, sum.Created+sum.Rejected+sum.Failed, "stopOnError=%v: every item read is settled", stopOnError)
		assert.Len(t, res.by, int(sum.Read), "stopOnError=%v: every item read has a result", stopOnError)
		assert.Greater(t, sum.Read, int64(2), "the third item was read and carried")
	}
}

func TestUploadProgressCarriesTheUploadID(t *testing.T) {
	t.Parallel()
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	var ids []string
	sum, err := testClient(t).UploadTasks(context.Background(), TasksFromSlice(imageTasks(12)), WithBatchSize(5),
		withRunner(fake.run), withClock(clk), OnProgress(func(p UploadProgress) { ids = append(ids, p.UploadID) }))
	require.NoError(t, err)
	require.NotEmpty(t, ids)
	for _, id := range ids {
		assert.Equal(t, sum.UploadID, id, "a crashing process can save the generated id from its first progress call")
	}
}
