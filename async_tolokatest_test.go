package toloka_test

// The async calls, the wait, the log and the per-index results against
// tolokatest (issue 4): every path the httpmock tests of async_test.go
// cover, here against a server that really validates, stores, paces
// operations, answers 409 OPERATION_ALREADY_EXISTS and loses answers. The
// rig of soak_test.go sits in front of the fake and records every POST
// attempt, so a test can see the operation_id each retry carried.

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/tolokatest"
)

// newAsyncRig is a fault-free soak rig: faults are injected by each test.
func newAsyncRig(t *testing.T, opts ...tolokatest.Option) *soakRig {
	t.Helper()
	return newSoakRig(t, rigConfig{seed: 7, serverOpts: opts})
}

// fiveTasks are tasks 0..4 of the soak fixture.
func fiveTasks() []toloka.Task {
	tasks := make([]toloka.Task, 5)
	for i := range tasks {
		tasks[i] = soakTask(i)
	}
	return tasks
}

// withInvalid returns fiveTasks with items 1 and 3 invalid: a missing
// required input field and a zero overlap.
func withInvalid() []toloka.Task {
	tasks := fiveTasks()
	tasks[1].InputValues = toloka.Values{"other": "x"}
	tasks[3].Overlap = toloka.FiniteOverlap(0)
	return tasks
}

// codesAt returns field → code of one item's errors.
func codesAt(errs []toloka.FieldError) map[string]string {
	out := map[string]string{}
	for _, fe := range errs {
		out[fe.Field] = fe.Code
	}
	return out
}

// requireOnServer checks that each created id is the server's task of the
// same input.
func requireOnServer(t *testing.T, s *tolokatest.Server, tasks []toloka.Task, created map[int]string) {
	t.Helper()
	count, serverID := serverCounts(t, s, soakTaskPool)
	for index, id := range created {
		key := tasks[index].InputValues["key"].(string)
		require.Equal(t, 1, count[key], "%s on the server", key)
		require.Equal(t, serverID[key], id, "id of item %d", index)
	}
}

// onlyOperation returns the server's one operation, failing when there are
// more or none.
func onlyOperation(t *testing.T, s *tolokatest.Server) toloka.Operation {
	t.Helper()
	ops := s.Operations()
	require.Len(t, ops, 1, "operations on the server")
	return ops[0]
}

// postAttempts returns the attempts of the one POST body the front saw.
func (r *soakRig) postAttempts(t *testing.T) []postAttempt {
	t.Helper()
	r.front.mu.Lock()
	defer r.front.mu.Unlock()
	require.Len(t, r.front.postOrder, 1, "distinct POST bodies")
	return slices.Clone(r.front.posts[r.front.postOrder[0]])
}

func TestTolokatestAsyncSuccess(t *testing.T) {
	t.Parallel()
	rig := newAsyncRig(t)
	ctx := t.Context()
	tasks := fiveTasks()

	op, err := rig.client.CreateTasksAsync(ctx, tasks)
	require.NoError(t, err)
	_, err = uuid.Parse(op.ID)
	require.NoError(t, err, "a fresh operation id is a UUID")
	assert.Equal(t, toloka.OperationTaskBatchCreate, op.Type)
	assert.Equal(t, op.ID, onlyOperation(t, rig.server).ID)
	assert.Equal(t, op.ID, rig.postAttempts(t)[0].operationID, "the id sent is the id returned")

	done, err := rig.client.WaitOperation(ctx, op.ID, toloka.WithWaitSleeper(rig.waitSleep))
	require.NoError(t, err)
	assert.Equal(t, toloka.OperationSuccess, done.Status)
	assert.Equal(t, toloka.OperationCounters{TotalCount: 5, ValidCount: 5, SuccessCount: 5}, done.Counters())

	// The log as a stream: one TASK_CREATE per item, each carrying its index.
	seen := map[int]string{}
	for entry, err := range rig.client.OperationLog(ctx, op.ID) {
		require.NoError(t, err)
		assert.Equal(t, toloka.LogTaskCreate, entry.Type)
		assert.True(t, entry.Success)
		index, ok := entry.ItemIndex()
		require.True(t, ok, "entry without %s: %s", toloka.ItemIndexKey, entry.Input)
		seen[index] = entry.CreatedID()
	}
	require.Len(t, seen, 5)
	requireOnServer(t, rig.server, tasks, seen)

	// Stopping early stops the read without an error.
	n := 0
	for _, err := range rig.client.OperationLog(ctx, op.ID) {
		require.NoError(t, err)
		if n++; n == 2 {
			break
		}
	}
	assert.Equal(t, 2, n)

	res, err := rig.client.ReadUploadResults(ctx, op.ID, len(tasks))
	require.NoError(t, err)
	assert.Equal(t, seen, res.Created)
	assert.Empty(t, res.ValidationErrors)
	assert.Empty(t, res.Other)
	assert.Empty(t, res.Unmatched)
	assert.Empty(t, res.MissingIndexes(len(tasks)))
}

func TestTolokatestAsyncAllOrNothingFail(t *testing.T) {
	t.Parallel()
	rig := newAsyncRig(t)
	ctx := t.Context()
	tasks := withInvalid()

	// SkipValidation: the server, not the client, rejects items 1 and 3,
	// and one invalid item fails the whole operation (toloka-api.md §2.4).
	_, err := rig.client.CreateTasksAndWait(ctx, tasks, toloka.SkipValidation(), toloka.WithWaitSleeper(rig.waitSleep))
	require.Error(t, err)
	assert.ErrorIs(t, err, toloka.ErrOperationFailed)
	assert.ErrorIs(t, err, toloka.ErrValidation)
	var opErr *toloka.OperationError
	require.ErrorAs(t, err, &opErr)
	assert.Equal(t, toloka.OperationFail, opErr.Operation.Status)
	assert.Equal(t, toloka.OperationCounters{TotalCount: 5, ValidCount: 3, NotValidCount: 2, FailedCount: 5}, opErr.Operation.Counters())
	require.NotNil(t, opErr.Results)
	assert.Equal(t, []int{1, 3}, sortedIndexes(opErr.Results.ValidationErrors))
	assert.Equal(t, map[string]string{"input_values.key": "VALUE_REQUIRED", "input_values.other": "VALUE_NOT_ALLOWED"}, codesAt(opErr.Results.ValidationErrors[1]))
	assert.Equal(t, map[string]string{"overlap": "VALUE_LESS_THAN_MIN"}, codesAt(opErr.Results.ValidationErrors[3]))
	assert.Empty(t, opErr.Results.Created)
	var ve *toloka.ValidationError
	require.ErrorAs(t, err, &ve)
	for _, fe := range ve.Errors {
		assert.Contains(t, []int{1, 3}, fe.Index)
		assert.Equal(t, "tasks", fe.Collection)
	}
	assert.Contains(t, err.Error(), "tasks[1].input_values.key")
	assert.Zero(t, rig.server.TaskCount(soakTaskPool), "all or nothing: nothing created")

	// The same through the separate calls: WaitOperation reports the FAIL,
	// the log says why, by index; the valid items have no entry.
	op, err := rig.client.CreateTasksAsync(ctx, tasks, toloka.SkipValidation())
	require.NoError(t, err)
	_, err = rig.client.WaitOperation(ctx, op.ID, toloka.WithWaitSleeper(rig.waitSleep))
	require.ErrorAs(t, err, &opErr)
	assert.Nil(t, opErr.Results, "WaitOperation does not read the log")
	assert.Contains(t, err.Error(), "OperationLog(ctx, \""+op.ID+"\")")
	res, err := rig.client.ReadUploadResults(ctx, op.ID, len(tasks))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 3}, sortedIndexes(res.ValidationErrors))
	assert.Equal(t, []int{0, 2, 4}, res.MissingIndexes(len(tasks)))
	assert.Zero(t, rig.server.TaskCount(soakTaskPool))
}

func sortedIndexes[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestTolokatestAsyncSkipInvalidItemsOnTheServer(t *testing.T) {
	t.Parallel()
	rig := newAsyncRig(t)
	tasks := withInvalid()

	res, err := rig.client.CreateTasksAndWait(t.Context(), tasks, toloka.SkipValidation(),
		toloka.CreateOptions{SkipInvalidItems: true}, toloka.WithWaitSleeper(rig.waitSleep))
	require.NoError(t, err, "partial success is not an error")
	assert.Equal(t, []int{0, 2, 4}, res.CreatedIndexes())
	assert.Equal(t, []int{1, 3}, res.RejectedIndexes())
	assert.Equal(t, "VALUE_REQUIRED", codesAt(res.ValidationErrors[1])["input_values.key"])
	assert.Equal(t, 1, res.ValidationErrors[1][0].Index)
	assert.Equal(t, "VALUE_LESS_THAN_MIN", codesAt(res.ValidationErrors[3])["overlap"])
	assert.Error(t, res.Err())
	created := map[int]string{}
	for index, task := range res.Items {
		assert.Equal(t, tasks[index].InputValues, task.InputValues)
		created[index] = task.ID
	}
	requireOnServer(t, rig.server, tasks, created)
	assert.Equal(t, 3, rig.server.TaskCount(soakTaskPool))
	op := onlyOperation(t, rig.server)
	assert.Equal(t, toloka.OperationSuccess, op.Status)
	assert.Equal(t, toloka.OperationCounters{TotalCount: 5, ValidCount: 3, NotValidCount: 2, SuccessCount: 3, FailedCount: 2}, op.Counters())
}

func TestTolokatestAsyncSkipInvalidItemsOnTheClient(t *testing.T) {
	t.Parallel()
	rig := newAsyncRig(t)
	tasks := withInvalid()

	// With validation on, the client already knows items 1 and 3 would be
	// refused: it leaves them out of the request and reports them at their
	// own index; the server sees three valid items.
	res, err := rig.client.CreateTasksAndWait(t.Context(), tasks,
		toloka.CreateOptions{SkipInvalidItems: true}, toloka.WithWaitSleeper(rig.waitSleep))
	require.NoError(t, err)
	assert.Equal(t, []int{0, 2, 4}, res.CreatedIndexes())
	assert.Equal(t, []int{1, 3}, res.RejectedIndexes())
	for _, index := range []int{1, 3} {
		for _, fe := range res.ValidationErrors[index] {
			assert.Equal(t, index, fe.Index, "a client rejection is reported at the caller's index")
		}
	}
	assert.Contains(t, codesAt(res.ValidationErrors[1]), "input_values.key")
	assert.Contains(t, codesAt(res.ValidationErrors[3]), "overlap")
	created := map[int]string{}
	for index, task := range res.Items {
		assert.Equal(t, tasks[index].InputValues["key"], task.InputValues["key"], "item %d", index)
		created[index] = task.ID
	}
	requireOnServer(t, rig.server, tasks, created)
	op := onlyOperation(t, rig.server)
	assert.Equal(t, toloka.OperationCounters{TotalCount: 3, ValidCount: 3, SuccessCount: 3}, op.Counters(),
		"the invalid items were not sent")

	// When the client rejects every item, nothing is sent at all.
	bad := withInvalid()[1:2]
	res, err = rig.client.CreateTasksAndWait(t.Context(), bad, toloka.CreateOptions{SkipInvalidItems: true})
	require.NoError(t, err)
	assert.Empty(t, res.Items)
	assert.Equal(t, []int{0}, res.RejectedIndexes())
	assert.Len(t, rig.server.Operations(), 1, "no second operation")
}

func TestTolokatestWaitPacesPollsAndReportsProgress(t *testing.T) {
	t.Parallel()
	rig := newAsyncRig(t, tolokatest.WithPace(tolokatest.FinishAfterPolls(3)))
	var progress []toloka.OperationProgress
	var pauses []time.Duration
	sleeper := func(ctx context.Context, d time.Duration) error {
		pauses = append(pauses, d)
		return rig.waitSleep(ctx, d)
	}

	res, err := rig.client.CreateTasksAndWait(t.Context(), fiveTasks(), toloka.WithWaitSleeper(sleeper),
		toloka.WithProgress(func(p toloka.OperationProgress) { progress = append(progress, p) }))
	require.NoError(t, err)
	assert.Len(t, res.Items, 5)

	// The official SDKs' start (500 ms, then every second), in fake time.
	assert.Equal(t, []time.Duration{500 * time.Millisecond, time.Second, time.Second}, pauses)
	require.Len(t, progress, 4, "the creation answer, then each of three polls")
	type seen struct {
		status         string
		percent, polls int
		waited         time.Duration
	}
	var got []seen
	for _, p := range progress {
		got = append(got, seen{p.Status, p.Percent, p.Polls, p.Waited})
		assert.Equal(t, toloka.OperationTaskBatchCreate, p.Type)
	}
	assert.Equal(t, []seen{
		{toloka.OperationPending, 0, 0, 0},
		{toloka.OperationRunning, 33, 1, 500 * time.Millisecond},
		{toloka.OperationRunning, 66, 2, 1500 * time.Millisecond},
		{toloka.OperationSuccess, 100, 3, 2500 * time.Millisecond},
	}, got)
	assert.Equal(t, toloka.OperationCounters{TotalCount: 5, ValidCount: 5, SuccessCount: 5}, progress[3].Counters)
	assert.Equal(t, 3, rig.server.RequestCount(tolokatest.RouteGetOperation, http.StatusOK))
}

func TestTolokatestLostAnswerAdoptsTheOperation(t *testing.T) {
	t.Parallel()
	for _, pace := range []struct {
		name string
		pace tolokatest.Pace
	}{
		{"finished", tolokatest.FinishImmediately()},
		{"still running", tolokatest.FinishAfterPolls(2)},
	} {
		t.Run(pace.name, func(t *testing.T) {
			t.Parallel()
			rig := newAsyncRig(t, tolokatest.WithPace(pace.pace))
			tasks := fiveTasks()
			id := uuid.NewString()
			// The server applies the upload, then the answer is lost.
			rig.server.InjectFault(tolokatest.RouteCreateTasks, 1, tolokatest.DropAfterApply())

			res, err := rig.client.CreateTasksAndWait(t.Context(), tasks, toloka.WithOperationID(id), toloka.WithWaitSleeper(rig.waitSleep))
			require.NoError(t, err)
			created := map[int]string{}
			for index, task := range res.Items {
				created[index] = task.ID
			}
			require.Len(t, created, 5)
			requireOnServer(t, rig.server, tasks, created)
			assert.Equal(t, 5, rig.server.TaskCount(soakTaskPool), "no duplicates")

			// The retry resent the same operation_id, met 409
			// OPERATION_ALREADY_EXISTS, and carried on with that operation.
			assert.Equal(t, id, onlyOperation(t, rig.server).ID)
			attempts := rig.postAttempts(t)
			assert.Equal(t, []postAttempt{
				{attempt: 1, status: 0, operationID: id},
				{attempt: 2, status: http.StatusConflict, operationID: id},
			}, attempts)
			assert.Equal(t, 1, rig.server.RequestCount(tolokatest.RouteCreateTasks, http.StatusConflict))
		})
	}
}

func TestTolokatestRetryResendsTheSameOperationID(t *testing.T) {
	t.Parallel()
	rig := newAsyncRig(t)
	rig.server.InjectFault(tolokatest.RouteCreateTasks, 1, tolokatest.ErrorStatus(http.StatusServiceUnavailable, 0))
	rig.server.InjectFault(tolokatest.RouteCreateTasks, 1, tolokatest.DropBeforeApply())
	rig.server.InjectFault(tolokatest.RouteCreateTasks, 1, tolokatest.ErrorStatus(http.StatusInternalServerError, 0))

	op, err := rig.client.CreateTasksAsync(t.Context(), fiveTasks()) // a fresh random id
	require.NoError(t, err)
	attempts := rig.postAttempts(t)
	require.Len(t, attempts, 4)
	for i, a := range attempts {
		assert.Equal(t, i+1, a.attempt)
		assert.Equal(t, op.ID, a.operationID, "attempt %d", a.attempt)
	}
	assert.Equal(t, []int{http.StatusServiceUnavailable, 0, http.StatusInternalServerError, http.StatusCreated},
		[]int{attempts[0].status, attempts[1].status, attempts[2].status, attempts[3].status})
	assert.Equal(t, op.ID, onlyOperation(t, rig.server).ID, "one operation, under the id every attempt carried")
	assert.Equal(t, 5, rig.server.TaskCount(soakTaskPool))
	retries, _, _, _ := rig.slept()
	assert.Equal(t, 3, retries, "each retry waited through the hook")
}

func TestTolokatestOperationAlreadyExists(t *testing.T) {
	t.Parallel()
	rig := newAsyncRig(t)
	ctx := t.Context()
	tasks := fiveTasks()
	id := uuid.NewString()

	first, err := rig.client.CreateTasksAsync(ctx, tasks, toloka.WithOperationID(id))
	require.NoError(t, err)

	// The same items under the same id, as a restarted process would send
	// them: Toloka answers 409 and the call adopts the operation.
	again, err := rig.client.CreateTasksAsync(ctx, tasks, toloka.WithOperationID(id))
	require.NoError(t, err)
	assert.Equal(t, first.ID, again.ID)
	assert.Equal(t, toloka.OperationSuccess, again.Status)
	assert.Equal(t, 5, rig.server.TaskCount(soakTaskPool), "nothing created twice")

	// Another batch size under that id is refused, naming the mismatch.
	_, err = rig.client.CreateTasksAsync(ctx, tasks[:3], toloka.WithOperationID(id))
	require.Error(t, err)
	assert.ErrorContains(t, err, "upload of 5 tasks")

	// So is an id that belongs to a suite upload.
	suiteID := uuid.NewString()
	_, err = rig.client.CreateTaskSuitesAsync(ctx, []toloka.TaskSuite{soakSuite(0)}, toloka.WithOperationID(suiteID))
	require.NoError(t, err)
	_, err = rig.client.CreateTasksAsync(ctx, fiveTasks(), toloka.WithOperationID(suiteID))
	require.Error(t, err)
	assert.ErrorContains(t, err, toloka.OperationTaskSuiteBatchCreate)
	var apiErr *toloka.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, toloka.CodeOperationAlreadyExists, apiErr.Code)
	assert.Equal(t, 5, rig.server.TaskCount(soakTaskPool))
	assert.Len(t, rig.server.Operations(), 2)
}

// soakSuite is a suite of two tasks for the suite pool.
func soakSuite(n int) toloka.TaskSuite {
	return toloka.TaskSuite{PoolID: soakSuitePool, Overlap: toloka.FiniteOverlap(1), Tasks: []toloka.SuiteTask{
		{InputValues: toloka.Values{"key": soakKey(2 * n)}},
		{InputValues: toloka.Values{"key": soakKey(2*n + 1)}},
	}}
}

func TestTolokatestCreateTasksAndWaitReadBack(t *testing.T) {
	t.Parallel()
	for _, readBack := range []bool{false, true} {
		t.Run(map[bool]string{false: "ids only", true: "read back"}[readBack], func(t *testing.T) {
			t.Parallel()
			rig := newAsyncRig(t)
			tasks := fiveTasks()
			opts := []toloka.CallOption{toloka.WithWaitSleeper(rig.waitSleep)}
			if readBack {
				opts = append(opts, toloka.WithReadBack())
			}
			res, err := rig.client.CreateTasksAndWait(t.Context(), tasks, opts...)
			require.NoError(t, err)
			require.Len(t, res.Items, 5)
			stored := map[string]toloka.Task{}
			for _, task := range rig.server.Tasks(soakTaskPool) {
				stored[task.ID] = task
			}
			for index, task := range res.Items {
				server, ok := stored[task.ID]
				require.True(t, ok, "item %d: id %s not on the server", index, task.ID)
				assert.Equal(t, tasks[index].InputValues["key"], server.InputValues["key"])
				if readBack {
					assert.Equal(t, server, task, "item %d is the server's copy", index)
					assert.False(t, task.Created.IsZero())
				} else {
					assert.True(t, task.Created.IsZero(), "without read-back server-set fields stay zero")
					assert.Equal(t, tasks[index].InputValues, task.InputValues)
				}
			}
			want := 0
			if readBack {
				want = 1 // one page for the whole batch
			}
			assert.Equal(t, want, rig.server.RequestCount(tolokatest.RouteListTasks, http.StatusOK))
		})
	}
}

func TestTolokatestCreateTaskSuitesAndWait(t *testing.T) {
	t.Parallel()
	for _, readBack := range []bool{false, true} {
		t.Run(map[bool]string{false: "ids only", true: "read back"}[readBack], func(t *testing.T) {
			t.Parallel()
			rig := newAsyncRig(t, tolokatest.WithPace(tolokatest.FinishAfterPolls(2)))
			suites := []toloka.TaskSuite{soakSuite(0), soakSuite(1), soakSuite(2)}
			suites[1].Overlap = toloka.Overlap{} // takes the pool's default with AllowDefaults
			opts := []toloka.CallOption{toloka.WithWaitSleeper(rig.waitSleep), toloka.CreateOptions{AllowDefaults: true}}
			if readBack {
				opts = append(opts, toloka.WithReadBack())
			}
			res, err := rig.client.CreateTaskSuitesAndWait(t.Context(), suites, opts...)
			require.NoError(t, err)
			require.Equal(t, []int{0, 1, 2}, res.CreatedIndexes())
			stored := map[string]toloka.TaskSuite{}
			for _, s := range rig.server.TaskSuites(soakSuitePool) {
				stored[s.ID] = s
			}
			require.Len(t, stored, 3)
			for index, suite := range res.Items {
				server, ok := stored[suite.ID]
				require.True(t, ok, "suite %d: id %s not on the server", index, suite.ID)
				require.Len(t, suite.Tasks, 2)
				assert.Equal(t, suites[index].Tasks[0].InputValues, server.Tasks[0].InputValues)
				if readBack {
					assert.Equal(t, server, suite)
					assert.NotEmpty(t, suite.Tasks[0].ID, "read back: the ids of the tasks inside")
					if index == 1 {
						assert.Equal(t, toloka.FiniteOverlap(2), suite.Overlap, "the pool's default overlap")
					}
				} else {
					assert.Empty(t, suite.Tasks[0].ID, "ids only: the tasks inside need WithReadBack")
					assert.True(t, suite.Created.IsZero())
				}
			}
			op := onlyOperation(t, rig.server)
			assert.Equal(t, toloka.OperationTaskSuiteBatchCreate, op.Type)
		})
	}
}

func TestTolokatestResumeTheWaitElsewhere(t *testing.T) {
	t.Parallel()
	rig := newAsyncRig(t, tolokatest.WithPace(tolokatest.FinishManually()))
	tasks := fiveTasks()
	op, err := rig.client.CreateTasksAsync(t.Context(), tasks)
	require.NoError(t, err)
	assert.Equal(t, toloka.OperationPending, op.Status)

	// The first process gives up mid-wait.
	ctx, cancel := context.WithCancel(t.Context())
	giveUp := func(ctx context.Context, d time.Duration) error {
		if rig.server.RequestCount(tolokatest.RouteGetOperation, http.StatusOK) == 2 {
			cancel()
		}
		return rig.waitSleep(ctx, d)
	}
	_, err = rig.client.WaitOperation(ctx, op.ID, toloka.WithWaitSleeper(giveUp))
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "WaitOperation(ctx, \""+op.ID+"\")", "the error says how to resume")
	assert.Zero(t, rig.server.TaskCount(soakTaskPool))

	// Another client, knowing only the id, picks it up once it finishes.
	rig.server.FinishOperations()
	other, err := rig.server.Client()
	require.NoError(t, err)
	done, err := other.WaitOperation(t.Context(), op.ID)
	require.NoError(t, err, "a finished operation is read once, without pausing")
	assert.Equal(t, toloka.OperationSuccess, done.Status)
	res, err := other.ReadUploadResults(t.Context(), op.ID, 0)
	require.NoError(t, err)
	require.Len(t, res.Created, 5)
	requireOnServer(t, rig.server, tasks, res.Created)
}

func TestTolokatestOpenPoolStepIsReportedApart(t *testing.T) {
	t.Parallel()
	rig := newAsyncRig(t)
	var all toloka.UploadResults
	res, err := rig.client.CreateTasksAndWait(t.Context(), fiveTasks(), toloka.CreateOptions{OpenPool: true},
		toloka.WithUploadResultsInto(&all), toloka.WithWaitSleeper(rig.waitSleep))
	require.NoError(t, err)
	assert.Len(t, res.Items, 5)
	require.Len(t, all.Other, 1, "the POOL_OPEN entry is kept, not dropped")
	assert.Equal(t, toloka.LogPoolOpen, all.Other[0].Type)
	assert.True(t, all.Other[0].Success)
	assert.Len(t, all.Created, 5)
	pool, ok := rig.server.Pool(soakTaskPool)
	require.True(t, ok)
	assert.Equal(t, toloka.PoolOpen, pool.Status)
}

func TestTolokatestAsyncErrorsAreNotRetriedIntoDuplicates(t *testing.T) {
	t.Parallel()
	rig := newAsyncRig(t)
	// Every attempt loses its answer after the server applied it: the call
	// gives up, names the operation id, and that id finds the upload.
	policy := toloka.RetryPolicy{MaxRetries: 2}
	rig.server.InjectFault(tolokatest.RouteCreateTasks, 3, tolokatest.DropAfterApply())
	id := uuid.NewString()
	_, err := rig.client.CreateTasksAsync(t.Context(), fiveTasks(), toloka.WithOperationID(id), policy)
	require.Error(t, err)
	assert.False(t, errors.Is(err, toloka.ErrOutcomeUnknown), "async creates are safe to resend")
	assert.ErrorContains(t, err, id)
	assert.Equal(t, 5, rig.server.TaskCount(soakTaskPool), "applied once, though three attempts arrived")
	assert.Equal(t, 2, rig.server.RequestCount(tolokatest.RouteCreateTasks, http.StatusConflict))

	op, err := rig.client.CreateTasksAsync(t.Context(), fiveTasks(), toloka.WithOperationID(id))
	require.NoError(t, err, "resending with the id adopts the upload")
	assert.Equal(t, id, op.ID)
	assert.Equal(t, 5, rig.server.TaskCount(soakTaskPool))
}
