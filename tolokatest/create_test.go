package tolokatest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/tolokatest"
)

func TestCreateSingleTaskSync(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	r := call(t, s, "POST", "/tasks?allow_defaults=true", task(smartPool, "http://x/1.png"))
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	var got toloka.Task
	require.NoError(t, json.Unmarshal(r.body, &got))
	assert.Regexp(t, `^0000000015--[0-9a-f]{24}$`, got.ID)
	assert.Equal(t, smartPool, got.PoolID)
	assert.Equal(t, "http://x/1.png", got.InputValues["image"])
	n, ok := got.Overlap.Count()
	assert.True(t, ok)
	assert.Equal(t, int64(3), n, "allow_defaults takes the pool's default_overlap_for_new_tasks")
	require.NotNil(t, got.RemainingOverlap)
	assert.Equal(t, int64(3), *got.RemainingOverlap)
	assert.False(t, got.Created.IsZero())

	back := call(t, s, "GET", "/tasks/"+got.ID, "")
	require.Equal(t, http.StatusOK, back.status)
	assert.JSONEq(t, string(r.body), string(back.body))
	stored := s.Tasks(smartPool)
	require.Len(t, stored, 1)
	assert.Equal(t, got.ID, stored[0].ID)
	assert.Equal(t, 1, s.TaskCount(smartPool))
	assert.Equal(t, 1, s.RequestCount(tolokatest.RouteCreateTasks, http.StatusCreated))
}

func TestCreateOverlapResolution(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	cases := []struct {
		name, query, body string
		overlap           string // "3", "infinite", or an error code
	}{
		{"explicit beats default", "?allow_defaults=true", `{"pool_id":"21","input_values":{"image":"http://x"},"overlap":5,"infinite_overlap":false}`, "5"},
		{"pool default", "?allow_defaults=true", task(smartPool, "http://x"), "3"},
		{"infinite", "", `{"pool_id":"21","input_values":{"image":"http://x"},"overlap":null,"infinite_overlap":true}`, "infinite"},
		{"no overlap without allow_defaults", "", task(smartPool, "http://x"), toloka.CodeValueRequired},
		{"pool without a default", "?allow_defaults=true", task(noDefaults, "http://x"), toloka.CodeValueRequired},
		{"training gets infinite", "?allow_defaults=true", `{"pool_id":"30","input_values":{"image":"http://x"},"known_solutions":[{"output_values":{"result":"a"}}],"message_on_unknown_solution":"hint"}`, "infinite"},
	}
	for _, tc := range cases {
		r := call(t, s, "POST", "/tasks"+tc.query, tc.body)
		switch tc.overlap {
		case toloka.CodeValueRequired:
			require.Equal(t, http.StatusBadRequest, r.status, tc.name)
			assert.Equal(t, tc.overlap, codes(t, r.json(t)["payload"])["overlap"], tc.name)
		default:
			require.Equal(t, http.StatusCreated, r.status, "%s: %s", tc.name, r.body)
			var got toloka.Task
			require.NoError(t, json.Unmarshal(r.body, &got))
			assert.Equal(t, tc.overlap, got.Overlap.String(), tc.name)
		}
	}
}

func TestCreateBatchSkipInvalidItems(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	// toloka-kit adds "__item_idx" to every item; the server tolerates it.
	body := `[
		{"__item_idx":"0","pool_id":"21","input_values":{"image":"http://x/1.png"}},
		{"__item_idx":"1","pool_id":"21","input_values":{"image":"http://x/2.png"},"overlap":0},
		{"__item_idx":"2","pool_id":"99","input_values":{"image":"http://x/3.png"}},
		{"__item_idx":"3","pool_id":"21","input_values":{"image":"http://x/4.png"}}
	]`
	r := call(t, s, "POST", "/tasks?async_mode=false&skip_invalid_items=true&allow_defaults=true", body)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	var res struct {
		Items            map[string]toloka.Task `json:"items"`
		ValidationErrors map[string]any         `json:"validation_errors"`
	}
	require.NoError(t, json.Unmarshal(r.body, &res))
	assert.Len(t, res.Items, 2)
	assert.Contains(t, res.Items, "0")
	assert.Contains(t, res.Items, "3")
	assert.Equal(t, map[string]string{"overlap": toloka.CodeValueLessThanMin}, codes(t, res.ValidationErrors["1"]))
	assert.Equal(t, map[string]string{"pool_id": "ENTITY_DOES_NOT_EXIST"}, codes(t, res.ValidationErrors["2"]))
	assert.NotContains(t, string(r.body), "__item_idx", "unknown keys are not part of a task")
	assert.Equal(t, 2, s.TaskCount(smartPool))

	// The SDK reads the same answer into its batch result.
	c, err := s.Client()
	require.NoError(t, err)
	got, err := c.CreateTasks(t.Context(), []toloka.Task{
		{PoolID: smartPool, InputValues: toloka.Values{"image": "http://x/5.png"}},
		{PoolID: smartPool, InputValues: toloka.Values{"image": "http://x/6.png"}, Overlap: toloka.FiniteOverlap(40000)},
	}, toloka.CreateOptions{AllowDefaults: true, SkipInvalidItems: true}, toloka.SkipValidation())
	require.NoError(t, err)
	assert.Equal(t, []int{0}, got.CreatedIndexes())
	assert.Equal(t, []int{1}, got.RejectedIndexes())
	assert.Equal(t, toloka.CodeValueGreaterThanMax, got.ValidationErrors[1][0].Code)
}

func TestCreateBatchAllOrNothing(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	body := "[" + task(smartPool, "http://x/1") + `,{"pool_id":"21","input_values":{"image":"http://x/2"},"overlap":0}]`
	r := call(t, s, "POST", "/tasks?allow_defaults=true", body)
	require.Equal(t, http.StatusBadRequest, r.status)
	m := r.json(t)
	assert.Equal(t, toloka.CodeValidationError, m["code"])
	assert.NotEmpty(t, m["request_id"])
	payload := m["payload"].(map[string]any)
	assert.Len(t, payload, 1, "only the invalid item is listed, keyed by index")
	assert.Equal(t, map[string]string{"overlap": toloka.CodeValueLessThanMin}, codes(t, payload["1"]))
	assert.Zero(t, s.TaskCount(smartPool), "nothing is created")

	// With WithRejectEmptySyncBatch, skip_invalid_items that creates nothing is a 400 too.
	strict := newFixture(t, tolokatest.WithRejectEmptySyncBatch())
	r = call(t, strict, "POST", "/tasks?skip_invalid_items=true", `[{"pool_id":"21","input_values":{"image":"x"},"overlap":0}]`)
	assert.Equal(t, http.StatusBadRequest, r.status)
	r = call(t, s, "POST", "/tasks?skip_invalid_items=true", `[{"pool_id":"21","input_values":{"image":"x"},"overlap":0}]`)
	assert.Equal(t, http.StatusCreated, r.status, "by default the 201 carries only validation_errors")
	assert.Equal(t, `{}`, string(mustField(t, r.body, "items")))
}

func mustField(t *testing.T, body []byte, key string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m))
	return m[key]
}

func TestCreateSingleInvalid(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	r := call(t, s, "POST", "/tasks", `{"pool_id":"21","input_values":{"image":"http://x"},"overlap":"3","known_solutions":{}}`)
	require.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, map[string]string{"overlap": "INTEGER_EXPECTED", "known_solutions": "ARRAY_EXPECTED"}, codes(t, r.json(t)["payload"]))

	r = call(t, s, "POST", "/tasks?skip_invalid_items=true", `[42, {"pool_id":"21","input_values":"x","overlap":1}]`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	errs := r.json(t)["validation_errors"].(map[string]any)
	assert.Equal(t, map[string]string{"": "OBJECT_EXPECTED"}, codes(t, errs["0"]))
	assert.Equal(t, map[string]string{"input_values": "OBJECT_EXPECTED"}, codes(t, errs["1"]))
}

func TestCreateRequestErrors(t *testing.T) {
	t.Parallel()
	s := newFixture(t, tolokatest.WithMaxSyncItems(2), tolokatest.WithMaxAsyncItems(3), tolokatest.WithMaxBodyBytes(1<<21))
	three := "[" + task(smartPool, "http://1") + "," + task(smartPool, "http://2") + "," + task(smartPool, "http://3") + "]"
	r := call(t, s, "POST", "/tasks", three)
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)
	assert.Equal(t, toloka.CodeEntityTooLarge, r.json(t)["code"])
	r = call(t, s, "POST", "/tasks?async_mode=true&allow_defaults=true", three)
	assert.Equal(t, http.StatusCreated, r.status, "the async cap is separate")
	r = call(t, s, "POST", "/tasks?async_mode=true", "["+strings.Repeat(task(smartPool, "http://1")+",", 3)+task(smartPool, "http://1")+"]")
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)

	r = call(t, s, "POST", "/tasks", `{"pool_id":"21","input_values":{"image":"`+strings.Repeat("a", 1<<21)+`"}}`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status, "body over the byte cap")

	// Over the 1 MiB input_values budget (toloka-api.md §2.5): a request-level 400.
	big := strings.Repeat("b", 600_000)
	r = call(t, s, "POST", "/tasks?allow_defaults=true", "["+task(smartPool, big)+","+task(smartPool, big)+"]")
	require.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, map[string]string{"input_values": toloka.CodeObjectSizeTooLarge}, codes(t, r.json(t)["payload"]))

	for _, bad := range []string{``, `null`, `"x"`, `[{}`, `{"pool_id":`} {
		r = call(t, s, "POST", "/tasks", bad)
		assert.Equal(t, http.StatusBadRequest, r.status, "%q", bad)
		assert.Equal(t, toloka.CodeValidationError, r.json(t)["code"], "%q", bad)
	}
	r = call(t, s, "POST", "/tasks?allow_defaults=maybe", task(smartPool, "http://1"))
	assert.Equal(t, map[string]string{"allow_defaults": "BOOLEAN_EXPECTED"}, codes(t, r.json(t)["payload"]))
}

func TestCreateTaskSuites(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	suite := `{"pool_id":"22","tasks":[{"input_values":{"image":"http://x/1"}},{"input_values":{"image":"http://x/2"},"known_solutions":[{"output_values":{"result":"a"}}]}],"issuing_order_override":3}`
	r := call(t, s, "POST", "/task-suites?allow_defaults=true", suite)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	var got toloka.TaskSuite
	require.NoError(t, json.Unmarshal(r.body, &got))
	assert.Equal(t, "2", got.Overlap.String(), "default_overlap_for_new_task_suites")
	require.Len(t, got.Tasks, 2)
	assert.NotEmpty(t, got.Tasks[0].ID)
	assert.NotEqual(t, got.Tasks[0].ID, got.Tasks[1].ID)
	assert.Equal(t, 3.0, *got.IssuingOrderOverride)
	assert.False(t, *got.Mixed)

	back := call(t, s, "GET", "/task-suites/"+got.ID, "")
	assert.JSONEq(t, string(r.body), string(back.body))
	byTask := call(t, s, "GET", "/task-suites?task_id="+got.Tasks[1].ID, "")
	require.Equal(t, http.StatusOK, byTask.status)
	assert.Len(t, byTask.json(t)["items"], 1)
	assert.Equal(t, http.StatusNotFound, call(t, s, "GET", "/tasks/"+got.ID, "").status, "a suite id is not a task id")

	// baseline_solutions inside a suite's task: VALUE_NOT_ALLOWED (toloka-api.md §3.3).
	batch := `[` + suite + `,{"pool_id":"22","overlap":1,"tasks":[{"input_values":{"image":"http://x"}},{"input_values":{"image":"http://y"},"baseline_solutions":[{"output_values":{"result":"a"}}]}]}]`
	r = call(t, s, "POST", "/task-suites?skip_invalid_items=true&allow_defaults=true", batch)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	m := r.json(t)
	assert.Len(t, m["items"], 1)
	assert.Equal(t, map[string]string{"tasks.1.baseline_solutions": toloka.CodeValueNotAllowed}, codes(t, m["validation_errors"].(map[string]any)["1"]))
	assert.Len(t, s.TaskSuites(suitePool), 2)
	assert.Equal(t, 2, s.TaskSuiteCount(suitePool))
}

func TestOpenPoolOnSyncCreate(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	r := call(t, s, "POST", "/tasks?allow_defaults=true", task(smartPool, "http://x"))
	require.Equal(t, http.StatusCreated, r.status)
	p, _ := s.Pool(smartPool)
	assert.Equal(t, toloka.PoolClosed, p.Status, "without open_pool the pool stays closed")
	r = call(t, s, "POST", "/tasks?allow_defaults=true&open_pool=true", task(smartPool, "http://y"))
	require.Equal(t, http.StatusCreated, r.status)
	p, _ = s.Pool(smartPool)
	assert.Equal(t, toloka.PoolOpen, p.Status)
}

// The fake judges items with the SDK's own checks: for every item and pool
// the server's errors hold whatever toloka.CheckTasks reports on the same
// pools and projects, so the two cannot disagree.
func TestServerAgreesWithCheckTasks(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	c, err := s.Client()
	require.NoError(t, err)
	env := toloka.CheckEnv{AllowDefaults: true, Pools: map[string]*toloka.Pool{}, Projects: map[string]*toloka.Project{}}
	for _, id := range []string{smartPool, suitePool, archivedPool, noDefaults, trainingPool} {
		p, err := c.GetPool(t.Context(), id)
		require.NoError(t, err)
		env.Pools[id] = p
	}
	env.Projects["1"], err = c.GetProject(t.Context(), "1")
	require.NoError(t, err)

	var tasks []toloka.Task
	for _, pool := range []string{smartPool, suitePool, archivedPool, noDefaults, trainingPool} {
		tasks = append(tasks,
			toloka.Task{PoolID: pool, InputValues: toloka.Values{"image": "https://example.com/a.png"}},
			toloka.Task{PoolID: pool, InputValues: toloka.Values{"image": "example.com/a.png", "imagis": "x"}, Overlap: toloka.FiniteOverlap(2)},
			toloka.Task{PoolID: pool, InputValues: toloka.Values{"image": "https://e/a"}, KnownSolutions: []toloka.KnownSolution{{OutputValues: toloka.Values{"result": "a"}}}, Overlap: toloka.InfiniteOverlap()},
			toloka.Task{PoolID: pool, InputValues: toloka.Values{"image": "https://e/a"}, KnownSolutions: []toloka.KnownSolution{{OutputValues: toloka.Values{"result": 5}, CorrectnessWeight: toloka.Ptr(1.5)}}, MessageOnUnknownSolution: "hint", Overlap: toloka.InfiniteOverlap()},
			toloka.Task{PoolID: pool, InputValues: toloka.Values{}, ReservedFor: []string{"w", "w"}, Overlap: toloka.FiniteOverlap(1)},
		)
	}
	want := map[int]map[string]string{}
	for _, fe := range toloka.CheckTasks(tasks, env) {
		if want[fe.Index] == nil {
			want[fe.Index] = map[string]string{}
		}
		if _, dup := want[fe.Index][fe.Field]; !dup {
			want[fe.Index][fe.Field] = fe.Code
		}
	}
	res, err := c.CreateTasks(t.Context(), tasks, toloka.CreateOptions{AllowDefaults: true, SkipInvalidItems: true}, toloka.SkipValidation())
	require.NoError(t, err)
	for i := range tasks {
		got := map[string]string{}
		for _, fe := range res.ValidationErrors[i] {
			got[fe.Field] = fe.Code
		}
		for field, code := range want[i] {
			assert.Equal(t, code, got[field], "item %d (pool %s) field %s", i, tasks[i].PoolID, field)
		}
		if len(want[i]) > 0 {
			assert.NotContains(t, res.Items, i, "item %d was refused by CheckTasks but created", i)
		}
		if _, created := res.Items[i]; !created {
			assert.NotEmpty(t, res.ValidationErrors[i], "item %d neither created nor rejected", i)
		}
	}
}

func TestTolokaKitStyleFlow(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	auth := "OAuth " + s.Credential() // toloka-kit sends OAuth for credentials that do not look like API keys
	opID := "281073ea-ab34-416e-a028-47421ff1b166"
	body := `[{"pool_id":"21","input_values":{"image":"http://x/1"},"__item_idx":"0"},{"pool_id":"21","input_values":{"image":"http://x/2"},"overlap":0,"__item_idx":"1"}]`
	r := callAuth(t, s, "POST", "/tasks?async_mode=true&operation_id="+opID+"&allow_defaults=true&skip_invalid_items=true", body, auth)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	assert.Equal(t, opID, r.json(t)["id"])

	r = callAuth(t, s, "GET", "/operations/"+opID+"/log", "", auth)
	require.Equal(t, http.StatusOK, r.status)
	var log []struct {
		Type    string         `json:"type"`
		Success bool           `json:"success"`
		Input   map[string]any `json:"input"`
		Output  map[string]any `json:"output"`
	}
	require.NoError(t, json.Unmarshal(r.body, &log))
	require.Len(t, log, 2)
	ids := []string{}
	for _, e := range log {
		if e.Success {
			ids = append(ids, e.Output["task_id"].(string))
			assert.Equal(t, "0", e.Input["__item_idx"])
		}
	}
	require.Len(t, ids, 1)
	r = callAuth(t, s, "GET", fmt.Sprintf("/tasks?pool_id=21&id_gte=%s&id_lte=%s&sort=id", ids[0], ids[0]), "", auth)
	require.Equal(t, http.StatusOK, r.status)
	assert.Len(t, r.json(t)["items"], 1)
}
