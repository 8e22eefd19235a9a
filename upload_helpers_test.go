package toloka

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

// uploadFakeClock advances only when the uploader sleeps, and records each wait.
type uploadFakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newUploadFakeClock() *uploadFakeClock {
	return &uploadFakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *uploadFakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *uploadFakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.waits = append(c.waits, t.Sub(c.now))
		c.now = t
	}
	return nil
}

func (c *uploadFakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *uploadFakeClock) recordedWaits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// sentBatch is what the fake server saw of one request.
type sentBatch struct {
	Ordinal     int
	OperationID string
	Indexes     []int64
	At          time.Time
}

// fakeToloka is a batchRunner backed by an in-memory server that keeps the
// operations it created by id, so a repeated operation id is answered from
// the stored outcome (409 OPERATION_ALREADY_EXISTS + log read) and never
// creates items twice.
type fakeToloka struct {
	t     *testing.T
	clock *uploadFakeClock

	mu         sync.Mutex
	operations map[string]batchOutcome
	created    map[string]int64 // created id → input index
	creates    int              // operations created
	posts      int              // requests received
	sent       []sentBatch

	// failBatch, when set, decides per request whether the batch fails and
	// whether the server applied it before the failure (a lost response).
	failBatch func(b *uploadBatch) (fail, applied bool)
	// before runs at the start of each request, outside the lock.
	before func(b *uploadBatch)
	// perBatch is added to the fake clock by each request.
	perBatch time.Duration
}

func newFakeToloka(t *testing.T, clk *uploadFakeClock) *fakeToloka {
	return &fakeToloka{t: t, clock: clk, operations: map[string]batchOutcome{}, created: map[string]int64{}}
}

// run decodes the body as Toloka would, checks the markers and creates every
// item, rejecting those whose first input value is the string "server-bad".
func (f *fakeToloka) run(ctx context.Context, b *uploadBatch) (batchOutcome, error) {
	if f.before != nil {
		f.before(b)
	}
	if err := ctx.Err(); err != nil {
		return batchOutcome{}, err
	}
	var items []map[string]json.RawMessage
	require.NoError(f.t, json.Unmarshal(b.Body, &items), "body must be a JSON array")
	require.Len(f.t, items, b.Len())

	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts++
	if f.clock != nil {
		f.sent = append(f.sent, sentBatch{Ordinal: b.Ordinal, OperationID: b.OperationID, Indexes: append([]int64(nil), b.Indexes...), At: f.clock.Now()})
		if f.perBatch > 0 {
			f.clock.advance(f.perBatch)
		}
	}
	fail, applied := false, false
	if f.failBatch != nil {
		fail, applied = f.failBatch(b)
	}
	out, exists := f.operations[b.OperationID]
	if !exists && (!fail || applied) {
		out = batchOutcome{IDs: make([]string, b.Len())}
		for pos, raw := range items {
			var marker string
			require.NoError(f.t, json.Unmarshal(raw[itemMarker], &marker))
			index, err := strconv.Atoi(marker)
			require.NoError(f.t, err)
			p, ok := b.Position(index)
			require.True(f.t, ok, "marker %q not in batch", marker)
			require.Equal(f.t, pos, p)
			if isServerBad(raw) {
				out.Errors = append(out.Errors, FieldError{Index: pos, Field: "input_values.image", Code: "INVALID_URL_SYNTAX", Message: "Value must be in valid url format"})
				continue
			}
			id := fmt.Sprintf("id-%s-%d", b.OperationID[:8], pos)
			out.IDs[pos] = id
			f.created[id] = b.Indexes[pos]
		}
		f.operations[b.OperationID] = out
		f.creates++
	}
	if fail {
		return batchOutcome{}, fmt.Errorf("connection reset by peer")
	}
	return out, nil
}

func isServerBad(raw map[string]json.RawMessage) bool {
	if !bytes.Contains(raw["input_values"], []byte("server-bad")) && !bytes.Contains(raw["tasks"], []byte("server-bad")) {
		return false
	}
	var values map[string]any
	if v, ok := raw["input_values"]; ok {
		_ = json.Unmarshal(v, &values)
	}
	if tasks, ok := raw["tasks"]; ok {
		var ts []map[string]map[string]any
		_ = json.Unmarshal(tasks, &ts)
		if len(ts) > 0 {
			values = ts[0]["input_values"]
		}
	}
	return values["image"] == "server-bad"
}

func (f *fakeToloka) batches() []sentBatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]sentBatch(nil), f.sent...)
	sort.Slice(out, func(i, j int) bool { return out[i].Ordinal < out[j].Ordinal })
	return out
}

// itemResults collects OnResult calls; the uploader serializes them, and the
// lock makes the race detector agree.
type itemResults struct {
	mu sync.Mutex
	by map[int64]ItemResult
	n  int
}

func newResults() *itemResults { return &itemResults{by: map[int64]ItemResult{}} }

func (r *itemResults) add(res ItemResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	r.by[res.Index] = res
}

func (r *itemResults) get(i int64) ItemResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.by[i]
}

func imageTask(i int) Task {
	return Task{PoolID: "1", InputValues: Values{"image": fmt.Sprintf("https://example.com/img/%07d.png", i)}, Overlap: FiniteOverlap(1)}
}

func imageTasks(n int) []Task {
	tasks := make([]Task, n)
	for i := range tasks {
		tasks[i] = imageTask(i)
	}
	return tasks
}

func imageSuite(i int) TaskSuite {
	return TaskSuite{PoolID: "2", Overlap: FiniteOverlap(1), Tasks: []SuiteTask{
		{InputValues: Values{"image": "https://example.com/a/" + strconv.Itoa(i)}},
		{InputValues: Values{"image": "https://example.com/b/" + strconv.Itoa(i)}},
	}}
}

func jsonl[T any](t *testing.T, items []T) []byte {
	t.Helper()
	var out []byte
	for _, it := range items {
		data, err := json.Marshal(it)
		require.NoError(t, err)
		out = append(append(out, data...), '\n')
	}
	return out
}

// testClient is a client for uploads with a fake runner. Its transport
// serves only the pool and project lookups that validation may make: pool 1
// takes tasks through smart mixing, pool 2 takes task suites, and project 10
// has no task_spec, so no spec rules apply.
func testClient(t *testing.T) *Client {
	t.Helper()
	const base = "http://127.0.0.1:1"
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodGet, base+"/pools/1", httpmock.NewStringResponder(http.StatusOK,
		`{"id":"1","project_id":"10","status":"OPEN","defaults":{"default_overlap_for_new_tasks":1},`+
			`"mixer_config":{"real_tasks_count":5,"golden_tasks_count":1,"training_tasks_count":0}}`))
	mt.RegisterResponder(http.MethodGet, base+"/pools/2", httpmock.NewStringResponder(http.StatusOK,
		`{"id":"2","project_id":"10","status":"OPEN","defaults":{"default_overlap_for_new_task_suites":1}}`))
	mt.RegisterResponder(http.MethodGet, base+"/projects/10", httpmock.NewStringResponder(http.StatusOK, `{"id":"10","status":"ACTIVE"}`))
	c, err := NewClient(WithAPIKey("test-key"), WithBaseURL(base), WithTransport(mt))
	require.NoError(t, err)
	return c
}
