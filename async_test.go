package toloka

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sleepRecorder replaces the pause between polls: it records each delay and
// never sleeps. cancelAt > 0 cancels the wait's context on that pause.
type sleepRecorder struct {
	mu       sync.Mutex
	delays   []time.Duration
	cancelAt int
	cancel   context.CancelFunc
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	n := len(s.delays)
	s.mu.Unlock()
	if s.cancelAt > 0 && n == s.cancelAt {
		s.cancel()
	}
	return ctx.Err()
}

func (s *sleepRecorder) option() CallOption { return withSleeper(s.sleep) }

// logOutcome says what the fake's log reports for one submitted item.
type logOutcome func(index int, input json.RawMessage) (entries []map[string]any)

// created is the outcome of an item the fake creates.
func created(prefix string) logOutcome {
	return func(index int, input json.RawMessage) []map[string]any {
		typ, key := LogTaskCreate, "task_id"
		if prefix == "suite" {
			typ, key = LogTaskSuiteCreate, "task_suite_id"
		}
		return []map[string]any{{"type": typ, "success": true, "input": input, "output": map[string]any{key: fmt.Sprintf("%s-%04d", prefix, index)}}}
	}
}

// asyncFake answers the async routes like Toloka: POST creates an operation
// whose status follows statuses, one per poll; the log echoes each posted
// item as the outcome function decides, in reverse order (the SDK must not
// rely on order).
type asyncFake struct {
	mu         sync.Mutex
	t          *testing.T
	endpoint   string // "tasks" or "task-suites"
	opType     string
	postStatus int
	statuses   []string
	details    string
	outcome    logOutcome
	extraLog   []map[string]any

	posts   []*http.Request
	bodies  [][]byte
	opID    string
	polls   int
	logGets int
}

func newAsyncFake(t *testing.T, mt *httpmock.MockTransport, endpoint string, statuses ...string) *asyncFake {
	f := &asyncFake{t: t, endpoint: endpoint, opType: OperationTaskBatchCreate, postStatus: http.StatusCreated, statuses: statuses, outcome: created("task")}
	if endpoint == "task-suites" {
		f.opType = OperationTaskSuiteBatchCreate
		f.outcome = created("suite")
	}
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/"+endpoint, f.post)
	mt.RegisterRegexpResponder(http.MethodGet, regexp.MustCompile(`^`+ProductionURL+`/operations/[^/]+$`), f.getOperation)
	mt.RegisterRegexpResponder(http.MethodGet, regexp.MustCompile(`^`+ProductionURL+`/operations/[^/]+/log$`), f.getLog)
	return f
}

func (f *asyncFake) operationJSON(status string) string {
	details := ""
	if f.details != "" && (status == OperationSuccess || status == OperationFail) {
		details = `,"details":` + f.details
	}
	return fmt.Sprintf(`{"id":%q,"type":%q,"status":%q,"submitted":"2024-01-02T03:04:05","progress":%d%s}`,
		f.opID, f.opType, status, f.polls*25, details)
}

func (f *asyncFake) post(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	require.NoError(f.t, err)
	f.posts = append(f.posts, r)
	f.bodies = append(f.bodies, body)
	f.opID = r.URL.Query().Get("operation_id")
	return httpmock.NewStringResponse(f.postStatus, f.operationJSON(OperationRunning)), nil
}

func (f *asyncFake) getOperation(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	status := f.statuses[min(f.polls, len(f.statuses)-1)]
	f.polls++
	return httpmock.NewStringResponse(http.StatusOK, f.operationJSON(status)), nil
}

func (f *asyncFake) getLog(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logGets++
	var items []json.RawMessage
	require.NoError(f.t, json.Unmarshal(f.bodies[len(f.bodies)-1], &items))
	var entries []map[string]any
	for i := len(items) - 1; i >= 0; i-- {
		entries = append(entries, f.outcome(i, items[i])...)
	}
	entries = append(entries, f.extraLog...)
	data, err := json.Marshal(entries)
	require.NoError(f.t, err)
	return httpmock.NewBytesResponse(http.StatusOK, data), nil
}

func asyncTasks(n int) []Task {
	tasks := make([]Task, n)
	for i := range tasks {
		tasks[i] = Task{PoolID: "21", InputValues: Values{"image": fmt.Sprintf("https://example.com/%d.png", i)}, Overlap: FiniteOverlap(3)}
	}
	return tasks
}

func asyncSuites(n int) []TaskSuite {
	suites := make([]TaskSuite, n)
	for i := range suites {
		suites[i] = TaskSuite{PoolID: "22", Overlap: FiniteOverlap(1), Tasks: []SuiteTask{{InputValues: Values{"text": fmt.Sprintf("t%d", i)}}}}
	}
	return suites
}

func TestCreateTasksAsyncRequest(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusCreated, http.StatusAccepted} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			f := newAsyncFake(t, mt, "tasks", OperationSuccess)
			f.postStatus = status
			tasks := asyncTasks(2)
			tasks[1].InputValues["html"] = "<b>&</b>"
			op, err := c.CreateTasksAsync(context.Background(), tasks, CreateOptions{AllowDefaults: true, OpenPool: true})
			require.NoError(t, err)

			require.Len(t, f.posts, 1)
			q := f.posts[0].URL.Query()
			assert.Equal(t, "true", q.Get("async_mode"))
			assert.Equal(t, "true", q.Get("allow_defaults"))
			assert.Equal(t, "true", q.Get("open_pool"))
			assert.False(t, q.Has("skip_invalid_items"))
			id, err := uuid.Parse(q.Get("operation_id"))
			require.NoError(t, err)
			assert.Equal(t, uuid.Version(4), id.Version())
			assert.Equal(t, id.String(), op.ID)
			assert.Equal(t, OperationRunning, op.Status)
			assert.Equal(t, OperationTaskBatchCreate, op.Type)

			var sent []map[string]any
			require.NoError(t, json.Unmarshal(f.bodies[0], &sent))
			require.Len(t, sent, 2)
			for i, item := range sent {
				assert.Equal(t, strconv.Itoa(i), item[ItemIndexKey], "item %d carries its index", i)
				assert.Equal(t, "21", item["pool_id"])
				assert.EqualValues(t, 3, item["overlap"])
			}
			assert.Equal(t, "<b>&</b>", sent[1]["input_values"].(map[string]any)["html"])
			assert.NotContains(t, tasks[0].InputValues, ItemIndexKey, "the caller's items are not changed")
		})
	}
}

func TestCreateAsyncFreshOperationIDPerCall(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	f := newAsyncFake(t, mt, "tasks", OperationSuccess)
	_, err := c.CreateTasksAsync(context.Background(), asyncTasks(1))
	require.NoError(t, err)
	_, err = c.CreateTasksAsync(context.Background(), asyncTasks(1))
	require.NoError(t, err)
	require.Len(t, f.posts, 2)
	assert.NotEqual(t, f.posts[0].URL.Query().Get("operation_id"), f.posts[1].URL.Query().Get("operation_id"))
}

func TestCreateAsyncWithOperationID(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	f := newAsyncFake(t, mt, "tasks", OperationSuccess)
	const id = "281073ea-ab34-416e-a028-47421ff1b166"
	op, err := c.CreateTasksAsync(context.Background(), asyncTasks(1), WithOperationID(id))
	require.NoError(t, err)
	assert.Equal(t, id, op.ID)
	assert.Equal(t, id, f.posts[0].URL.Query().Get("operation_id"))
}

func TestCreateAsyncRejectsBadOperationIDs(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"op-1", "281073EA-AB34-416E-A028-47421FF1B166", "{281073ea-ab34-416e-a028-47421ff1b166}", "281073eaab34416ea02847421ff1b166", "urn:uuid:281073ea-ab34-416e-a028-47421ff1b166"} {
		c, mt := newMockClient(t)
		_, err := c.CreateTasksAsync(context.Background(), asyncTasks(1), WithOperationID(id))
		require.Error(t, err, id)
		assert.ErrorContains(t, err, "canonical lowercase")
		assert.ErrorContains(t, err, "uuid.NewString()")
		assert.Zero(t, mt.GetTotalCallCount(), "nothing is sent for %q", id)
	}
}

func TestCreateAsyncBatchBounds(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.CreateTasksAsync(context.Background(), nil)
	assert.ErrorContains(t, err, "no tasks to create")
	_, err = c.CreateTaskSuitesAsync(context.Background(), asyncSuites(MaxAsyncBatch+1))
	assert.ErrorContains(t, err, "10001 task_suites in one async request")
	assert.ErrorContains(t, err, "split the batch")
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestCreateAsyncValidatesFirst(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	tasks := asyncTasks(3)
	tasks[2].PoolID = ""
	_, err := c.CreateTasksAsync(context.Background(), tasks)
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, []int{2}, verr.Indexes())
	assert.Zero(t, mt.GetTotalCallCount())

	// SkipValidation sends it anyway.
	f := newAsyncFake(t, mt, "tasks", OperationSuccess)
	_, err = c.CreateTasksAsync(context.Background(), tasks, SkipValidation())
	require.NoError(t, err)
	assert.Len(t, f.posts, 1)
}

func TestCreateAsyncServerValidationError(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/task-suites", httpmock.NewStringResponder(400,
		`{"code":"VALIDATION_ERROR","message":"Validation failed","payload":{"pool_id":{"code":"ENTITY_DOES_NOT_EXIST","message":"no pool"}}}`))
	_, err := c.CreateTaskSuitesAsync(context.Background(), asyncSuites(1))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	require.Len(t, apiErr.FieldErrors, 1)
	assert.Equal(t, collectionTaskSuites, apiErr.FieldErrors[0].Collection)
	assert.ErrorIs(t, err, ErrValidation)
}

func TestCreateAsyncAnswerNotAnOperation(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/tasks", httpmock.NewStringResponder(201, `{"items":{"0":{"id":"x"}}}`))
	_, err := c.CreateTasksAsync(context.Background(), asyncTasks(1))
	assert.ErrorContains(t, err, "not an operation")
}

// alreadyExists registers a POST that answers 409 OPERATION_ALREADY_EXISTS
// and a GET of the operation with the given body.
func alreadyExists(mt *httpmock.MockTransport, endpoint, opBody string) {
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/"+endpoint, httpmock.NewStringResponder(409,
		`{"code":"OPERATION_ALREADY_EXISTS","message":"Operation with provided id already exists","request_id":"r1"}`))
	mt.RegisterRegexpResponder(http.MethodGet, regexp.MustCompile(`^`+ProductionURL+`/operations/[^/]+$`), func(r *http.Request) (*http.Response, error) {
		id := strings.TrimPrefix(r.URL.Path, "/api/v1/operations/")
		return httpmock.NewStringResponse(200, strings.ReplaceAll(opBody, "$ID", id)), nil
	})
}

func TestCreateAsyncOperationAlreadyExists(t *testing.T) {
	t.Parallel()
	const id = "0f8fad5b-d9cb-469f-a165-70867728950e"
	c, mt := newMockClient(t)
	alreadyExists(mt, "tasks", `{"id":"$ID","type":"TASK.BATCH_CREATE","status":"SUCCESS","details":{"total_count":2}}`)
	op, err := c.CreateTasksAsync(context.Background(), asyncTasks(2), WithOperationID(id))
	require.NoError(t, err, "an existing operation of our own id is carried on with")
	assert.Equal(t, id, op.ID)
	assert.Equal(t, OperationSuccess, op.Status)
	info := mt.GetCallCountInfo()
	assert.Equal(t, 1, info["POST "+ProductionURL+"/tasks"], "never sent again")
	assert.Equal(t, 2, mt.GetTotalCallCount())
}

func TestCreateAsyncOperationAlreadyExistsEvenIfFailed(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	alreadyExists(mt, "task-suites", `{"id":"$ID","type":"TASK_SUITE.BATCH_CREATE","status":"FAIL"}`)
	op, err := c.CreateTaskSuitesAsync(context.Background(), asyncSuites(1))
	require.NoError(t, err, "creation never fails on our own id; waiting reports the FAIL")
	assert.Equal(t, OperationFail, op.Status)
}

func TestCreateAsyncOperationAlreadyExistsMismatch(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		endpoint, body, want string
		suites               bool
	}{
		"other type":        {"tasks", `{"id":"$ID","type":"POOL.OPEN","status":"SUCCESS"}`, "already belongs to a POOL.OPEN operation, not a TASK.BATCH_CREATE upload", false},
		"tasks, not suites": {"task-suites", `{"id":"$ID","type":"TASK.BATCH_CREATE","status":"RUNNING"}`, "not a TASK_SUITE.BATCH_CREATE upload", true},
		"other item count":  {"tasks", `{"id":"$ID","type":"TASK.BATCH_CREATE","status":"SUCCESS","details":{"total_count":7}}`, "upload of 7 tasks, and this call has 2", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			alreadyExists(mt, tc.endpoint, tc.body)
			var err error
			if tc.suites {
				_, err = c.CreateTaskSuitesAsync(context.Background(), asyncSuites(2))
			} else {
				_, err = c.CreateTasksAsync(context.Background(), asyncTasks(2))
			}
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorIs(t, err, ErrConflict)
			assert.Equal(t, 2, mt.GetTotalCallCount(), "one POST, one GET, no resend")
		})
	}
}

func TestCreateAsyncOperationAlreadyExistsUnreadable(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/tasks", httpmock.NewStringResponder(409, `{"code":"OPERATION_ALREADY_EXISTS","message":"exists"}`))
	mt.RegisterRegexpResponder(http.MethodGet, regexp.MustCompile(`/operations/`), httpmock.NewStringResponder(404, `{"code":"DOES_NOT_EXIST","message":"no"}`))
	_, err := c.CreateTasksAsync(context.Background(), asyncTasks(1))
	assert.ErrorContains(t, err, "already exists, but reading it failed")
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestIndexedItemsEncoding(t *testing.T) {
	t.Parallel()
	type empty struct{}
	data, err := json.Marshal(indexedItems[empty]([]empty{{}, {}}))
	require.NoError(t, err)
	assert.JSONEq(t, `[{"__item_idx":"0"},{"__item_idx":"1"}]`, string(data))

	_, err = json.Marshal(indexedItems[int]([]int{1}))
	assert.ErrorContains(t, err, "item 0 does not encode as a JSON object")
	_, err = json.Marshal(indexedItems[Task]([]Task{{PoolID: "1", InputValues: Values{"f": func() {}}}}))
	assert.ErrorContains(t, err, "item 0")
}

// Round trips.

func TestCreateTasksAndWaitSuccess(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	f := newAsyncFake(t, mt, "tasks", OperationPending, OperationRunning, OperationSuccess)
	sleeps := &sleepRecorder{}
	var progress []OperationProgress
	tasks := asyncTasks(3)
	res, err := c.CreateTasksAndWait(context.Background(), tasks, sleeps.option(),
		WithProgress(func(p OperationProgress) { progress = append(progress, p) }))
	require.NoError(t, err)
	require.NoError(t, res.Err())
	assert.Equal(t, []int{0, 1, 2}, res.CreatedIndexes())
	for i := range 3 {
		assert.Equal(t, fmt.Sprintf("task-%04d", i), res.Items[i].ID)
		assert.Equal(t, tasks[i].InputValues, res.Items[i].InputValues)
		assert.Equal(t, "21", res.Items[i].PoolID)
		assert.True(t, res.Items[i].Created.IsZero(), "server-set fields need WithReadBack")
	}
	assert.Empty(t, tasks[0].ID, "the caller's tasks are not changed")
	assert.Equal(t, []time.Duration{500 * time.Millisecond, time.Second, time.Second}, sleeps.delays)
	require.Len(t, progress, 4, "the creation answer and each poll")
	assert.Equal(t, OperationSuccess, progress[3].Status)
	assert.Equal(t, 3, progress[3].Polls)
	assert.Equal(t, 1, f.logGets)
	assert.Equal(t, 5, mt.GetTotalCallCount(), "POST, three polls, one log read, no read-back")
}

func TestCreateTasksAndWaitPartialSuccess(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	f := newAsyncFake(t, mt, "tasks", OperationSuccess)
	f.outcome = func(i int, input json.RawMessage) []map[string]any {
		if i == 1 {
			return []map[string]any{{"type": LogTaskValidate, "success": false, "input": input, "output": map[string]any{
				"input_values.image": map[string]any{"code": "INVALID_URL_SYNTAX", "message": "Value must be in valid url format"}}}}
		}
		return created("task")(i, input)
	}
	f.extraLog = []map[string]any{{"type": LogPoolOpen, "success": true, "input": map[string]any{"pool_id": "21"}, "output": map[string]any{}}}
	var all UploadResults
	res, err := c.CreateTasksAndWait(context.Background(), asyncTasks(3), CreateOptions{SkipInvalidItems: true}, (&sleepRecorder{}).option(), WithUploadResultsInto(&all))
	require.NoError(t, err, "partial success is not an error")
	require.Len(t, all.Other, 1, "the POOL_OPEN entry is reported, not dropped")
	assert.Equal(t, LogPoolOpen, all.Other[0].Type)
	assert.Equal(t, map[int]string{0: "task-0000", 2: "task-0002"}, all.Created)
	assert.Equal(t, []int{0, 2}, res.CreatedIndexes())
	require.Equal(t, []int{1}, res.RejectedIndexes())
	assert.Equal(t, "tasks[1].input_values.image: INVALID_URL_SYNTAX: Value must be in valid url format", res.ValidationErrors[1][0].Error())
	assert.ErrorIs(t, res.Err(), ErrValidation)
	assert.Equal(t, "true", f.posts[0].URL.Query().Get("skip_invalid_items"))
}

func TestCreateTasksAndWaitAllOrNothingFail(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	f := newAsyncFake(t, mt, "tasks", OperationRunning, OperationFail)
	f.details = `{"total_count":2,"valid_count":1,"not_valid_count":1,"success_count":0,"failed_count":2}`
	f.outcome = func(i int, input json.RawMessage) []map[string]any {
		if i == 1 {
			return []map[string]any{{"type": LogTaskValidate, "success": false, "input": input, "output": map[string]any{
				"input_values.image": map[string]any{"code": "VALUE_REQUIRED", "message": "Value must be present and not equal to null"}}}}
		}
		return nil // the valid item is not created
	}
	res, err := c.CreateTasksAndWait(context.Background(), asyncTasks(2), (&sleepRecorder{}).option())
	require.Error(t, err)
	assert.Nil(t, res)
	assert.ErrorIs(t, err, ErrOperationFailed)
	assert.ErrorIs(t, err, ErrValidation)
	var opErr *OperationError
	require.ErrorAs(t, err, &opErr)
	assert.Equal(t, OperationFail, opErr.Operation.Status)
	assert.Empty(t, opErr.Results.Created)
	assert.Equal(t, []int{1}, sortedKeys(opErr.Results.ValidationErrors))
	assert.Equal(t, []int{0}, opErr.Results.MissingIndexes(2))
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, []int{1}, verr.Indexes())
	assert.Contains(t, err.Error(), "(total 2, valid 1, not valid 1, succeeded 0, failed 2)")
	assert.Contains(t, err.Error(), "tasks[1].input_values.image: VALUE_REQUIRED")
}

func TestCreateAndWaitFailWithUnreadableLog(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	// Registered first, so it answers before the fake's log route.
	mt.RegisterRegexpResponder(http.MethodGet, regexp.MustCompile(`/log$`), httpmock.NewStringResponder(409, `{"code":"OPERATION_LOGS_ARCHIVED","message":"archived"}`))
	newAsyncFake(t, mt, "tasks", OperationFail)
	_, err := c.CreateTasksAndWait(context.Background(), asyncTasks(1), (&sleepRecorder{}).option())
	assert.ErrorIs(t, err, ErrOperationFailed)
	assert.ErrorContains(t, err, "OPERATION_LOGS_ARCHIVED")
	var opErr *OperationError
	require.ErrorAs(t, err, &opErr)
	assert.Nil(t, opErr.Results)
}

func TestCreateAndWaitSuccessWithUnreadableLog(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	mt.RegisterRegexpResponder(http.MethodGet, regexp.MustCompile(`/log$`), httpmock.NewStringResponder(200, `[{"type":"TASK_CREATE"`))
	newAsyncFake(t, mt, "tasks", OperationSuccess)
	_, err := c.CreateTasksAndWait(context.Background(), asyncTasks(1), (&sleepRecorder{}).option())
	assert.ErrorContains(t, err, "succeeded, but reading its log failed; read it again with ReadUploadResults")
}

func TestCreateAndWaitIncompleteLog(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	f := newAsyncFake(t, mt, "tasks", OperationSuccess)
	f.outcome = func(i int, input json.RawMessage) []map[string]any {
		switch i {
		case 1:
			return nil // no entry at all
		case 2: // the marker was lost
			return []map[string]any{{"type": LogTaskCreate, "success": true, "input": map[string]any{"pool_id": "21"}, "output": map[string]any{"task_id": "t2"}}}
		}
		return created("task")(i, input)
	}
	_, err := c.CreateTasksAndWait(context.Background(), asyncTasks(3), (&sleepRecorder{}).option())
	assert.ErrorIs(t, err, ErrIncompleteResults)
	var inc *IncompleteResultsError
	require.ErrorAs(t, err, &inc)
	assert.Equal(t, []int{1, 2}, inc.Missing)
	require.Len(t, inc.Results.Unmatched, 1)
	assert.Equal(t, "the input has no __item_idx marker", inc.Results.Unmatched[0].Reason)
	assert.Equal(t, map[int]string{0: "task-0000"}, inc.Results.Created)
	assert.ErrorContains(t, err, "may have been created")
}

func TestCreateAndWaitStopsOnUploadError(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/tasks", httpmock.NewStringResponder(403, `{"code":"ACCESS_DENIED","message":"no"}`))
	_, err := c.CreateTasksAndWait(context.Background(), asyncTasks(1))
	assert.ErrorIs(t, err, ErrAccessDenied)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestCreateAndWaitCancelledMidWait(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	f := newAsyncFake(t, mt, "tasks", OperationRunning)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleeps := &sleepRecorder{cancelAt: 3, cancel: cancel}
	_, err := c.CreateTasksAndWait(ctx, asyncTasks(1), sleeps.option())
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "resume with WaitOperation(ctx, \""+f.opID+"\")")
	assert.Equal(t, 2, f.polls)
	assert.Zero(t, f.logGets)
}

func TestCreateTaskSuitesAndWait(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	f := newAsyncFake(t, mt, "task-suites", OperationSuccess)
	suites := asyncSuites(2)
	res, err := c.CreateTaskSuitesAndWait(context.Background(), suites, (&sleepRecorder{}).option())
	require.NoError(t, err)
	assert.Equal(t, "suite-0000", res.Items[0].ID)
	assert.Equal(t, "suite-0001", res.Items[1].ID)
	assert.Equal(t, suites[1].Tasks, res.Items[1].Tasks)
	assert.Equal(t, "/api/v1/task-suites", f.posts[0].URL.Path)
}

// readBackServer serves GET /<endpoint>?pool_id= from a sorted list of
// objects per pool, pageSize at a time whatever the limit, and records the
// queries.
type readBackServer struct {
	mu       sync.Mutex
	pools    map[string][]map[string]any
	pageSize int
	queries  []url.Values
	refuse   int // refuse limits above this with 400
}

func (s *readBackServer) respond(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.URL.Query()
	s.queries = append(s.queries, q)
	limit, _ := strconv.Atoi(q.Get("limit"))
	if s.refuse > 0 && limit > s.refuse {
		return httpmock.NewStringResponse(400, `{"code":"VALIDATION_ERROR","message":"limit too large"}`), nil
	}
	var page []map[string]any
	more := false
	for _, obj := range s.pools[q.Get("pool_id")] {
		id := obj["id"].(string)
		if (q.Has("id_gte") && id < q.Get("id_gte")) || (q.Has("id_gt") && id <= q.Get("id_gt")) || (q.Has("id_lte") && id > q.Get("id_lte")) {
			continue
		}
		if len(page) == min(s.pageSize, limit) {
			more = true
			break
		}
		page = append(page, obj)
	}
	data, _ := json.Marshal(map[string]any{"items": page, "has_more": more})
	return httpmock.NewBytesResponse(200, data), nil
}

func TestCreateTasksAndWaitReadBack(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	f := newAsyncFake(t, mt, "tasks", OperationSuccess)
	tasks := asyncTasks(10)
	for i := 7; i < 10; i++ {
		tasks[i].PoolID = "99"
	}
	srv := &readBackServer{pageSize: 3, pools: map[string][]map[string]any{}}
	for i, task := range tasks {
		srv.pools[task.PoolID] = append(srv.pools[task.PoolID], map[string]any{
			"id": fmt.Sprintf("task-%04d", i), "pool_id": task.PoolID, "input_values": task.InputValues,
			"overlap": 3, "remaining_overlap": 3, "created": "2024-01-02T03:04:05.5"})
		if i == 2 { // another upload's task inside the id range
			srv.pools["21"] = append(srv.pools["21"], map[string]any{"id": "task-0002x", "pool_id": "21"})
		}
	}
	mt.RegisterResponder(http.MethodGet, ProductionURL+"/tasks", srv.respond)
	res, err := c.CreateTasksAndWait(context.Background(), tasks, WithReadBack(), (&sleepRecorder{}).option())
	require.NoError(t, err)
	require.Len(t, res.Items, 10)
	for i := range tasks {
		assert.Equal(t, fmt.Sprintf("task-%04d", i), res.Items[i].ID)
		assert.Equal(t, tasks[i].PoolID, res.Items[i].PoolID)
		assert.Equal(t, Ptr[int64](3), res.Items[i].RemainingOverlap, "read back: server fields present")
		assert.False(t, res.Items[i].Created.IsZero())
	}
	// Pool 21: 8 objects in range (7 ours + 1 foreign), 3 per page → 3 pages;
	// pool 99: 3 objects → 1 page holding all, so paging stops there.
	assert.Len(t, srv.queries, 4)
	assert.Equal(t, 4, mt.GetCallCountInfo()["GET "+ProductionURL+"/tasks"])
	for _, q := range srv.queries {
		assert.Equal(t, "id", q.Get("sort"))
		assert.Equal(t, strconv.Itoa(MaxAsyncBatch), q.Get("limit"))
		if q.Get("pool_id") == "21" {
			assert.Equal(t, "task-0006", q.Get("id_lte"))
		}
	}
	first := srv.queries[0]
	if first.Get("pool_id") != "21" {
		first = srv.queries[1]
	}
	assert.Equal(t, "task-0000", first.Get("id_gte"))
	assert.Equal(t, 1, f.logGets)
}

func TestReadBackFallsBackToSmallPages(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	newAsyncFake(t, mt, "task-suites", OperationSuccess)
	srv := &readBackServer{pageSize: 1000, refuse: 300, pools: map[string][]map[string]any{}}
	for i := range 2 {
		srv.pools["22"] = append(srv.pools["22"], map[string]any{"id": fmt.Sprintf("suite-%04d", i), "pool_id": "22", "automerged": true})
	}
	mt.RegisterResponder(http.MethodGet, ProductionURL+"/task-suites", srv.respond)
	res, err := c.CreateTaskSuitesAndWait(context.Background(), asyncSuites(2), WithReadBack(), (&sleepRecorder{}).option())
	require.NoError(t, err)
	assert.True(t, res.Items[1].Automerged)
	require.Len(t, srv.queries, 2)
	assert.Equal(t, "10000", srv.queries[0].Get("limit"))
	assert.Equal(t, "300", srv.queries[1].Get("limit"))
}

func TestReadBackReportsMissingObjects(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	newAsyncFake(t, mt, "tasks", OperationSuccess)
	srv := &readBackServer{pageSize: 10, pools: map[string][]map[string]any{"21": {{"id": "task-0000", "pool_id": "21"}}}}
	mt.RegisterResponder(http.MethodGet, ProductionURL+"/tasks", srv.respond)
	_, err := c.CreateTasksAndWait(context.Background(), asyncTasks(2), WithReadBack(), (&sleepRecorder{}).option())
	assert.ErrorContains(t, err, "reading back the created tasks of pool 21: 1 of them were not found")
}

func TestAsyncCallsDoNotLeakTheCredential(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	newAsyncFake(t, mt, "tasks", OperationFail)
	_, err := c.CreateTasksAndWait(context.Background(), asyncTasks(1), (&sleepRecorder{}).option())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testKey)
	assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), testKey)
}

func TestCreateAsyncLostAnswerNamesTheOperationID(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/tasks", httpmock.NewErrorResponder(io.ErrUnexpectedEOF))
	const id = "0f8fad5b-d9cb-469f-a165-70867728950e"
	_, err := c.CreateTasksAsync(context.Background(), asyncTasks(1), WithOperationID(id))
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.ErrorContains(t, err, `may have accepted the batch; call again with WithOperationID("`+id+`")`)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.CreateTasksAsync(ctx, asyncTasks(1))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestCreateAndWaitFailAfterCreating(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	f := newAsyncFake(t, mt, "tasks", OperationFail)
	f.extraLog = []map[string]any{{"type": LogPoolOpen, "success": false, "input": map[string]any{"pool_id": 21},
		"output": map[string]any{"code": "EMPTY_POOL", "message": "Pool contains no tasks"}}}
	_, err := c.CreateTasksAndWait(context.Background(), asyncTasks(2), CreateOptions{OpenPool: true}, (&sleepRecorder{}).option())
	assert.ErrorIs(t, err, ErrOperationFailed)
	assert.NotErrorIs(t, err, ErrValidation, "no item was rejected")
	assert.ErrorContains(t, err, "2 item(s) were created nonetheless")
	assert.ErrorContains(t, err, `POOL_OPEN failed: {"code":"EMPTY_POOL"`)
	var opErr *OperationError
	require.ErrorAs(t, err, &opErr)
	assert.Len(t, opErr.Results.Created, 2, "the caller learns what exists before resending")
}
