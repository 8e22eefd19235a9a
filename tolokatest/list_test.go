package tolokatest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/tolokatest"
)

type taskPage struct {
	Items   []toloka.Task `json:"items"`
	HasMore bool          `json:"has_more"`
}

func listTasks(t *testing.T, s *tolokatest.Server, query string) taskPage {
	t.Helper()
	r := call(t, s, "GET", "/tasks?"+query, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var p taskPage
	require.NoError(t, json.Unmarshal(r.body, &p))
	return p
}

func ids(tasks []toloka.Task) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = t.ID
	}
	return out
}

func TestListTasks(t *testing.T) {
	t.Parallel()
	clock := tolokatest.NewManualClock(t0())
	s := newFixture(t, tolokatest.WithClock(clock))
	var created []string
	for i := 0; i < 7; i++ {
		overlap := 1 + i%3
		r := call(t, s, "POST", "/tasks", fmt.Sprintf(`{"pool_id":"21","input_values":{"image":"http://x/%d"},"overlap":%d}`, i, overlap))
		require.Equal(t, http.StatusCreated, r.status)
		created = append(created, r.json(t)["id"].(string))
		clock.Advance(time.Second)
	}
	call(t, s, "POST", "/tasks", `{"pool_id":"24","input_values":{"image":"http://other"},"overlap":1}`)

	// Pagination idiom of toloka-api.md §15.4.
	var seen []string
	query := "pool_id=21&sort=id&limit=3"
	for {
		p := listTasks(t, s, query)
		seen = append(seen, ids(p.Items)...)
		if !p.HasMore {
			break
		}
		query = "pool_id=21&sort=id&limit=3&id_gt=" + p.Items[len(p.Items)-1].ID
	}
	assert.Equal(t, created, seen)

	p := listTasks(t, s, "pool_id=21&sort=-id&limit=2")
	assert.Equal(t, []string{created[6], created[5]}, ids(p.Items))
	assert.True(t, p.HasMore)
	p = listTasks(t, s, "pool_id=21&id_gte="+created[2]+"&id_lte="+created[4])
	assert.Equal(t, created[2:5], ids(p.Items))
	p = listTasks(t, s, "pool_id=21&id_lt="+created[1])
	assert.Equal(t, created[:1], ids(p.Items))
	p = listTasks(t, s, "pool_id=21&overlap=2")
	assert.Equal(t, []string{created[1], created[4]}, ids(p.Items))
	p = listTasks(t, s, "pool_id=21&overlap_gte=2&overlap_lt=3")
	assert.Equal(t, []string{created[1], created[4]}, ids(p.Items))
	p = listTasks(t, s, "pool_id=21&created_gte=2024-05-06T07:08:14&created_lt=2024-05-06T07:08:16")
	assert.Equal(t, created[5:7], ids(p.Items))
	p = listTasks(t, s, "pool_id=21&sort=-created,id&limit=1")
	assert.Equal(t, created[6:7], ids(p.Items))
	p = listTasks(t, s, "pool_id=21")
	assert.Len(t, p.Items, 7, "default limit 50")
	assert.False(t, p.HasMore)
	assert.Empty(t, listTasks(t, s, "pool_id=404").Items)

	for _, bad := range []string{"", "pool_id=21&limit=0", "pool_id=21&limit=x", "pool_id=21&sort=overlap", "pool_id=21&created_gt=yesterday", "pool_id=21&overlap=a"} {
		r := call(t, s, "GET", "/tasks?"+bad, "")
		assert.Equal(t, http.StatusBadRequest, r.status, bad)
	}
	small := newFixture(t, tolokatest.WithMaxListLimit(300))
	assert.Equal(t, http.StatusBadRequest, call(t, small, "GET", "/tasks?pool_id=21&limit=301", "").status)
	assert.Equal(t, http.StatusOK, call(t, small, "GET", "/tasks?pool_id=21&limit=300", "").status)
}

func TestListTaskSuites(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	seeded, err := s.AddTaskSuites(
		toloka.TaskSuite{PoolID: suitePool, Tasks: []toloka.SuiteTask{{InputValues: toloka.Values{"image": "http://1"}}}},
		toloka.TaskSuite{PoolID: suitePool, Tasks: []toloka.SuiteTask{{InputValues: toloka.Values{"image": "http://2"}}}, Overlap: toloka.FiniteOverlap(4)},
	)
	require.NoError(t, err)
	require.Len(t, seeded, 2)
	assert.Equal(t, "2", seeded[0].Overlap.String(), "seeded suites take the pool default")
	r := call(t, s, "GET", "/task-suites?pool_id=22&overlap=4", "")
	require.Equal(t, http.StatusOK, r.status)
	var p struct {
		Items []toloka.TaskSuite `json:"items"`
	}
	require.NoError(t, json.Unmarshal(r.body, &p))
	require.Len(t, p.Items, 1)
	assert.Equal(t, seeded[1].ID, p.Items[0].ID)
	r = call(t, s, "GET", "/task-suites", "")
	assert.Equal(t, http.StatusBadRequest, r.status, "pool_id or task_id is required")
	r = call(t, s, "GET", "/task-suites?pool_id=21&task_id="+seeded[0].Tasks[0].ID, "")
	assert.Equal(t, `{"items":[],"has_more":false}`, string(r.body), "task_id of another pool")
}

func TestSeedTasksAndFixtures(t *testing.T) {
	t.Parallel()
	s := tolokatest.NewServerT(t)
	doc := `{
	  "projects": [{"id": "7", "task_spec": {"input_spec": {"text": {"type": "string"}}, "output_spec": {}}}],
	  "pools": [{"id": "70", "project_id": "7", "mixer_config": {"real_tasks_count": 3, "golden_tasks_count": 0, "training_tasks_count": 0},
	             "defaults": {"default_overlap_for_new_tasks": 2, "default_overlap_for_new_task_suites": 1}}],
	  "trainings": [{"id": "71", "project_id": "7", "training_tasks_in_task_suite_count": 2}],
	  "tasks": [{"pool_id": "70", "input_values": {"text": "seeded"}}]
	}`
	require.NoError(t, s.LoadFixtures(strings.NewReader(doc)))
	tasks := s.Tasks("70")
	require.Len(t, tasks, 1)
	assert.Equal(t, "2", tasks[0].Overlap.String())
	proj := call(t, s, "GET", "/projects/7", "").json(t)
	assert.Equal(t, "ACTIVE", proj["status"])
	pool, ok := s.Pool("70")
	require.True(t, ok)
	assert.Equal(t, toloka.PoolClosed, pool.Status, "pools start closed")
	assert.True(t, pool.UsesSmartMixing())

	err := s.LoadFixtures(strings.NewReader(`{"pools": [{"id": "80", "project_id": "nope"}], "unknown": 1}`))
	require.Error(t, err, "unknown keys in a fixture are typos")
	err = s.Seed(tolokatest.Fixtures{Pools: []toloka.Pool{{ID: "80", ProjectID: "nope"}}})
	require.ErrorContains(t, err, `project "nope" does not exist`)
	_, err = s.AddPool(toloka.Pool{ID: "70", ProjectID: "7"})
	require.ErrorContains(t, err, "already exists")
	_, err = s.AddTasks(toloka.Task{PoolID: "nope"})
	require.ErrorContains(t, err, `pool "nope" does not exist`)
	_, err = s.AddTraining(tolokatest.Training{ProjectID: "nope"})
	require.Error(t, err)

	path := t.TempDir() + "/f.json"
	require.NoError(t, os.WriteFile(path, []byte(`{"projects": [{"id": "8", "task_spec": {"input_spec": {}, "output_spec": {}}}]}`), 0o600))
	require.NoError(t, s.LoadFixturesFile(path))
	assert.Equal(t, http.StatusOK, call(t, s, "GET", "/projects/8", "").status)
	require.Error(t, s.LoadFixturesFile(t.TempDir()+"/missing.json"))

	auto, err := s.AddProject(toloka.Project{})
	require.NoError(t, err)
	assert.NotEmpty(t, auto.ID)
}
