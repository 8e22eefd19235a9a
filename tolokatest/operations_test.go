package tolokatest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/tolokatest"
)

type logEntry struct {
	Type    string          `json:"type"`
	Success bool            `json:"success"`
	Input   json.RawMessage `json:"input"`
	Output  map[string]any  `json:"output"`
}

func readLog(t *testing.T, s *tolokatest.Server, id string) []logEntry {
	t.Helper()
	r := call(t, s, "GET", "/operations/"+id+"/log", "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var log []logEntry
	require.NoError(t, json.Unmarshal(r.body, &log))
	return log
}

func readOp(t *testing.T, s *tolokatest.Server, id string) toloka.Operation {
	t.Helper()
	r := call(t, s, "GET", "/operations/"+id, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var op toloka.Operation
	require.NoError(t, json.Unmarshal(r.body, &op))
	return op
}

func decodeOp(t *testing.T, r reply) toloka.Operation {
	t.Helper()
	var op toloka.Operation
	require.NoError(t, json.Unmarshal(r.body, &op), "%s", r.body)
	return op
}

const twoTasksOneInvalid = `[{"pool_id":"21","input_values":{"image":"http://x/1.png"},"__item_idx":"0"},
 {"pool_id":"21","input_values": {"image":"http://x/2.png"},"overlap":0,"__item_idx":"1"}]`

func TestAsyncImmediateSkipInvalid(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	r := call(t, s, "POST", "/tasks?async_mode=true&allow_defaults=true&skip_invalid_items=true", twoTasksOneInvalid)
	require.Equal(t, http.StatusCreated, r.status)
	op := decodeOp(t, r)
	assert.Equal(t, toloka.OperationTaskBatchCreate, op.Type)
	assert.Equal(t, toloka.OperationSuccess, op.Status, "FinishImmediately answers a finished operation")
	assert.Equal(t, 100, *op.Progress)
	assert.False(t, op.Finished.IsZero())
	assert.Equal(t, toloka.OperationCounters{TotalCount: 2, ValidCount: 1, NotValidCount: 1, SuccessCount: 1, FailedCount: 1}, op.Counters())
	assert.JSONEq(t, `{"open_pool":false,"allow_defaults":true,"skip_invalid_items":true}`, string(op.Parameters))

	log := readLog(t, s, op.ID)
	require.Len(t, log, 2)
	assert.Equal(t, "TASK_CREATE", log[0].Type)
	assert.True(t, log[0].Success)
	assert.JSONEq(t, `{"pool_id":"21","input_values":{"image":"http://x/1.png"},"__item_idx":"0"}`, string(log[0].Input))
	assert.Equal(t, s.Tasks(smartPool)[0].ID, log[0].Output["task_id"])
	assert.Equal(t, "TASK_VALIDATE", log[1].Type)
	assert.False(t, log[1].Success)
	assert.Equal(t, `{"pool_id":"21","input_values": {"image":"http://x/2.png"},"overlap":0,"__item_idx":"1"}`, string(log[1].Input), "input is echoed byte for byte")
	assert.Equal(t, toloka.CodeValueLessThanMin, log[1].Output["overlap"].(map[string]any)["code"])
	assert.Equal(t, []toloka.Operation{readOp(t, s, op.ID)}, s.Operations())
}

func TestAsyncAllOrNothingFails(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	r := call(t, s, "POST", "/tasks?async_mode=true&allow_defaults=true", twoTasksOneInvalid)
	op := decodeOp(t, r)
	assert.Equal(t, toloka.OperationFail, op.Status)
	// toloka-api.md §2.4: valid 1, not valid 1, success 0, failed 2.
	assert.Equal(t, toloka.OperationCounters{TotalCount: 2, ValidCount: 1, NotValidCount: 1, SuccessCount: 0, FailedCount: 2}, op.Counters())
	log := readLog(t, s, op.ID)
	require.Len(t, log, 1, "only the invalid item is logged")
	assert.Equal(t, "TASK_VALIDATE", log[0].Type)
	assert.Zero(t, s.TaskCount(smartPool))
}

func TestAsyncOperationID(t *testing.T) {
	t.Parallel()
	s := newFixture(t, tolokatest.WithAsyncStatus(http.StatusAccepted))
	id := "57068577-e4b0-4f7b-87a0-256f00000001"
	r := call(t, s, "POST", "/tasks?async_mode=true&allow_defaults=true&operation_id="+id, task(smartPool, "http://x"))
	require.Equal(t, http.StatusAccepted, r.status)
	assert.Equal(t, id, decodeOp(t, r).ID)
	r = call(t, s, "POST", "/tasks?async_mode=true&allow_defaults=true&operation_id="+id, task(smartPool, "http://x"))
	require.Equal(t, http.StatusConflict, r.status)
	assert.Equal(t, toloka.CodeOperationAlreadyExists, r.json(t)["code"])
	assert.Equal(t, 1, s.TaskCount(smartPool), "the repeat created nothing")
	r = call(t, s, "POST", "/tasks?async_mode=true&operation_id=not-a-uuid", task(smartPool, "http://x"))
	assert.Equal(t, map[string]string{"operation_id": "UUID_EXPECTED"}, codes(t, r.json(t)["payload"]))
	// Sync mode ignores operation_id, as toloka-kit sends one anyway.
	r = call(t, s, "POST", "/tasks?async_mode=false&allow_defaults=true&operation_id="+id, task(smartPool, "http://x"))
	assert.Equal(t, http.StatusCreated, r.status)
}

func TestAsyncFinishAfterPolls(t *testing.T) {
	t.Parallel()
	s := newFixture(t, tolokatest.WithPace(tolokatest.FinishAfterPolls(3)))
	r := call(t, s, "POST", "/tasks?async_mode=true&allow_defaults=true", task(smartPool, "http://x"))
	op := decodeOp(t, r)
	assert.Equal(t, toloka.OperationPending, op.Status)
	assert.True(t, op.Started.IsZero())
	assert.Empty(t, readLog(t, s, op.ID), "no log before the end")

	op1 := readOp(t, s, op.ID)
	assert.Equal(t, toloka.OperationRunning, op1.Status)
	assert.Equal(t, 33, *op1.Progress)
	assert.False(t, op1.Started.IsZero())
	assert.Zero(t, s.TaskCount(smartPool), "items appear when the operation finishes")
	op2 := readOp(t, s, op.ID)
	assert.Equal(t, 66, *op2.Progress)
	op3 := readOp(t, s, op.ID)
	assert.Equal(t, toloka.OperationSuccess, op3.Status)
	assert.Equal(t, 1, s.TaskCount(smartPool))
	assert.Len(t, readLog(t, s, op.ID), 1)
	assert.Equal(t, toloka.OperationSuccess, readOp(t, s, op.ID).Status, "finished stays finished")
}

func TestAsyncManualPace(t *testing.T) {
	t.Parallel()
	s := newFixture(t, tolokatest.WithPace(tolokatest.FinishManually()))
	a := decodeOp(t, call(t, s, "POST", "/tasks?async_mode=true&allow_defaults=true", task(smartPool, "http://a")))
	assert.Equal(t, toloka.OperationPending, readOp(t, s, a.ID).Status, "reads do not move a manual operation")
	assert.Equal(t, 1, s.AdvanceOperations())
	assert.Equal(t, toloka.OperationRunning, readOp(t, s, a.ID).Status)
	b := decodeOp(t, call(t, s, "POST", "/task-suites?async_mode=true&allow_defaults=true", `[{"pool_id":"22","tasks":[{"input_values":{"image":"http://b"}}]}]`))
	assert.Equal(t, toloka.OperationTaskSuiteBatchCreate, b.Type)
	assert.Equal(t, 1, s.AdvanceOperations(), "a finishes, b starts running")
	assert.Equal(t, toloka.OperationSuccess, readOp(t, s, a.ID).Status)
	assert.Equal(t, toloka.OperationRunning, readOp(t, s, b.ID).Status)
	s.FinishOperations()
	assert.Equal(t, toloka.OperationSuccess, readOp(t, s, b.ID).Status)
	log := readLog(t, s, b.ID)
	require.Len(t, log, 1)
	assert.Equal(t, "TASK_SUITE_CREATE", log[0].Type)
	assert.Equal(t, s.TaskSuites(suitePool)[0].ID, log[0].Output["task_suite_id"])

	s.SetPace(tolokatest.FinishImmediately())
	c := decodeOp(t, call(t, s, "POST", "/tasks?async_mode=true&allow_defaults=true", task(smartPool, "http://c")))
	assert.Equal(t, toloka.OperationSuccess, c.Status)
}

func TestAsyncOpenPool(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	body := `[` + task(smartPool, "http://x") + `,{"pool_id":"24","input_values":{"image":"http://y"},"overlap":0}]`
	op := decodeOp(t, call(t, s, "POST", "/tasks?async_mode=true&allow_defaults=true&skip_invalid_items=true&open_pool=true", body))
	log := readLog(t, s, op.ID)
	require.Len(t, log, 4)
	assert.Equal(t, "POOL_OPEN", log[2].Type)
	assert.True(t, log[2].Success)
	assert.JSONEq(t, `{"pool_id":"21"}`, string(log[2].Input))
	assert.Equal(t, "POOL_OPEN", log[3].Type)
	assert.False(t, log[3].Success, "pool 24 got nothing")
	assert.Equal(t, toloka.CodeEmptyPool, log[3].Output["code"])
	p, _ := s.Pool(smartPool)
	assert.Equal(t, toloka.PoolOpen, p.Status)
	p, _ = s.Pool(noDefaults)
	assert.Equal(t, toloka.PoolClosed, p.Status)
}

func TestGetOperationsAndPools(t *testing.T) {
	t.Parallel()
	s := newFixture(t, tolokatest.WithClock(tolokatest.NewManualClock(t0())))
	assert.Equal(t, http.StatusNotFound, call(t, s, "GET", "/operations/nope", "").status)
	assert.Equal(t, http.StatusNotFound, call(t, s, "GET", "/operations/nope/log", "").status)

	ok := decodeOp(t, call(t, s, "POST", "/tasks?async_mode=true&allow_defaults=true", task(smartPool, "http://x")))
	failed := decodeOp(t, call(t, s, "POST", "/tasks?async_mode=true", task(smartPool, "http://x")))
	list := call(t, s, "GET", "/operations?status=FAIL", "")
	require.Equal(t, http.StatusOK, list.status)
	var page struct {
		Items   []toloka.Operation `json:"items"`
		HasMore bool               `json:"has_more"`
	}
	require.NoError(t, json.Unmarshal(list.body, &page))
	require.Len(t, page.Items, 1)
	assert.Equal(t, failed.ID, page.Items[0].ID)
	require.NoError(t, json.Unmarshal(call(t, s, "GET", "/operations?type=TASK.BATCH_CREATE&limit=1&sort=-submitted", "").body, &page))
	assert.Len(t, page.Items, 1)
	assert.True(t, page.HasMore)
	require.NoError(t, json.Unmarshal(call(t, s, "GET", "/operations?id_gte="+ok.ID+"&id_lte="+ok.ID, "").body, &page))
	assert.Len(t, page.Items, 1)
	require.NoError(t, json.Unmarshal(call(t, s, "GET", "/operations?submitted_gt=2024-05-06T07:08:10", "").body, &page))
	assert.Empty(t, page.Items)
	assert.Equal(t, http.StatusBadRequest, call(t, s, "GET", "/operations?limit=501", "").status, "operations page at most 500")
	assert.Equal(t, http.StatusBadRequest, call(t, s, "GET", "/operations?sort=created", "").status)

	r := call(t, s, "GET", "/pools/"+smartPool, "")
	require.Equal(t, http.StatusOK, r.status)
	var pool toloka.Pool
	require.NoError(t, json.Unmarshal(r.body, &pool))
	assert.True(t, pool.UsesSmartMixing())
	assert.Equal(t, int64(3), *pool.Defaults.DefaultOverlapForNewTasks)
	r = call(t, s, "GET", "/pools/"+trainingPool, "")
	require.NoError(t, json.Unmarshal(r.body, &pool))
	assert.True(t, pool.Training)
	r = call(t, s, "GET", "/trainings/"+trainingPool, "")
	require.Equal(t, http.StatusOK, r.status)
	assert.EqualValues(t, 3, r.json(t)["training_tasks_in_task_suite_count"])
	r = call(t, s, "GET", "/projects/1", "")
	var proj toloka.Project
	require.NoError(t, json.Unmarshal(r.body, &proj))
	assert.Equal(t, toloka.FieldURL, proj.TaskSpec.InputSpec["image"].Type)
	for _, p := range []string{"/pools/9", "/projects/9", "/trainings/" + smartPool, "/tasks/x", "/task-suites/x"} {
		r := call(t, s, "GET", p, "")
		assert.Equal(t, http.StatusNotFound, r.status, p)
		assert.Equal(t, toloka.CodeDoesNotExist, r.json(t)["code"], p)
	}
}

func TestOpenPoolEndpoint(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	r := call(t, s, "POST", "/pools/"+smartPool+"/open", "")
	require.Equal(t, http.StatusAccepted, r.status)
	op := decodeOp(t, r)
	assert.Equal(t, toloka.OperationPoolOpen, op.Type)
	assert.Equal(t, toloka.OperationFail, op.Status, "an empty pool cannot open")

	call(t, s, "POST", "/tasks?allow_defaults=true", task(smartPool, "http://x"))
	op = decodeOp(t, call(t, s, "POST", "/pools/"+smartPool+"/open", ""))
	assert.Equal(t, toloka.OperationSuccess, op.Status)
	assert.Equal(t, http.StatusNoContent, call(t, s, "POST", "/pools/"+smartPool+"/open", "").status)
	r = call(t, s, "POST", "/pools/"+archivedPool+"/open", "")
	assert.Equal(t, http.StatusConflict, r.status)
	assert.Equal(t, toloka.CodeInappropriateStatus, r.json(t)["code"])
	assert.Equal(t, http.StatusNotFound, call(t, s, "POST", "/pools/77/open", "").status)
	require.NoError(t, s.SetPoolStatus(smartPool, toloka.PoolClosed))
	require.Error(t, s.SetPoolStatus("77", toloka.PoolClosed))
}
