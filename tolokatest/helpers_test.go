package tolokatest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/tolokatest"
)

// Pools of the standard fixture.
const (
	smartPool    = "21" // smart mixing, default task overlap 3
	suitePool    = "22" // no mixer, default suite overlap 2
	archivedPool = "23" // smart mixing, archived
	noDefaults   = "24" // smart mixing, no default task overlap
	trainingPool = "30" // a training
)

// t0 is the start of the manual clocks of the tests.
func t0() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC) }

// newFixture starts a server with one project and the pools above.
func newFixture(t *testing.T, opts ...tolokatest.Option) *tolokatest.Server {
	t.Helper()
	s := tolokatest.NewServerT(t, opts...)
	require.NoError(t, s.Seed(tolokatest.Fixtures{
		Projects: []toloka.Project{{ID: "1", TaskSpec: toloka.TaskSpec{
			InputSpec:  map[string]toloka.FieldSpec{"image": {Type: toloka.FieldURL, Required: true}},
			OutputSpec: map[string]toloka.FieldSpec{"result": {Type: toloka.FieldString, Required: true}},
		}}},
		Pools: []toloka.Pool{
			{ID: smartPool, ProjectID: "1", MixerConfig: &toloka.MixerConfig{RealTasksCount: 5, GoldenTasksCount: 1, TrainingTasksCount: 1},
				Defaults: &toloka.PoolDefaults{DefaultOverlapForNewTasks: toloka.Ptr(int64(3)), DefaultOverlapForNewTaskSuites: toloka.Ptr(int64(3))}},
			{ID: suitePool, ProjectID: "1", Defaults: &toloka.PoolDefaults{DefaultOverlapForNewTaskSuites: toloka.Ptr(int64(2))}},
			{ID: archivedPool, ProjectID: "1", Status: toloka.PoolArchived, MixerConfig: &toloka.MixerConfig{RealTasksCount: 5}},
			{ID: noDefaults, ProjectID: "1", MixerConfig: &toloka.MixerConfig{RealTasksCount: 5}, Defaults: &toloka.PoolDefaults{}},
		},
		Trainings: []tolokatest.Training{{ID: trainingPool, ProjectID: "1", TrainingTasksInTaskSuiteCount: 3}},
	}))
	return s
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body %s", r.body)
	return m
}

// call sends a raw request with the server's credential, as any client would.
func call(t *testing.T, s *tolokatest.Server, method, path, body string) reply {
	t.Helper()
	return callAuth(t, s, method, path, body, "ApiKey "+s.Credential())
}

func callAuth(t *testing.T, s *tolokatest.Server, method, path, body, auth string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

// errorCodes returns the field → code map of one item's errors.
func codes(t *testing.T, v any) map[string]string {
	t.Helper()
	out := map[string]string{}
	m, ok := v.(map[string]any)
	require.True(t, ok, "not an object: %v", v)
	for field, fe := range m {
		out[field] = fe.(map[string]any)["code"].(string)
	}
	return out
}

func task(pool string, image string) string {
	return `{"pool_id":"` + pool + `","input_values":{"image":"` + image + `"}}`
}
