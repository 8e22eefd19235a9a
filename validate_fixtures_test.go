package toloka

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

const testBase = "https://toloka.test/api/v1"

// testPools are the fixture pools, as GET /pools/{id} bodies.
func testPools() map[string]string {
	return map[string]string{
		"mix":           `{"id":"mix","project_id":"prj","status":"OPEN","reward_per_assignment":0.05,"defaults":{"default_overlap_for_new_tasks":3,"default_overlap_for_new_task_suites":3},"mixer_config":{"real_tasks_count":5,"golden_tasks_count":1,"training_tasks_count":1}}`,
		"mix-nodefault": `{"id":"mix-nodefault","project_id":"prj","status":"OPEN","defaults":{"default_overlap_for_new_task_suites":3},"mixer_config":{"real_tasks_count":5,"golden_tasks_count":1,"training_tasks_count":1}}`,
		"mix-nocontrol": `{"id":"mix-nocontrol","project_id":"prj","status":"OPEN","mixer_config":{"real_tasks_count":5,"golden_tasks_count":0,"training_tasks_count":0}}`,
		"mix-golddist":  `{"id":"mix-golddist","project_id":"prj","status":"OPEN","mixer_config":{"real_tasks_count":5,"golden_tasks_count":0,"training_tasks_count":0,"golden_task_distribution_function":{"scope":"POOL","distribution":"UNIFORM","window_days":7,"intervals":[{"from":1,"to":100,"frequency":5}]}}}`,
		"mix-noreal":    `{"id":"mix-noreal","project_id":"prj","status":"OPEN","mixer_config":{"real_tasks_count":0,"golden_tasks_count":5,"training_tasks_count":0}}`,
		"mix-zero":      `{"id":"mix-zero","project_id":"prj","status":"OPEN","reward_per_assignment":0,"mixer_config":{"real_tasks_count":5,"golden_tasks_count":1,"training_tasks_count":1}}`,
		"mix-archived":  `{"id":"mix-archived","project_id":"prj","status":"ARCHIVED","mixer_config":{"real_tasks_count":5,"golden_tasks_count":1,"training_tasks_count":1}}`,
		"plain":         `{"id":"plain","project_id":"prj","status":"CLOSED","reward_per_assignment":0.05,"defaults":{"default_overlap_for_new_task_suites":3}}`,
		"plain-nodef":   `{"id":"plain-nodef","project_id":"prj","status":"OPEN","defaults":{"default_overlap_for_new_tasks":3}}`,
		"plain-zero":    `{"id":"plain-zero","project_id":"prj","status":"OPEN","reward_per_assignment":0}`,
		"plain-archive": `{"id":"plain-archive","project_id":"prj","status":"ARCHIVED"}`,
		"plain-map":     `{"id":"plain-map","project_id":"mapprj","status":"OPEN"}`,
		"train":         `{"id":"train","project_id":"prj","status":"OPEN","training":true,"type":"TRAINING"}`,
	}
}

// testProjectJSON is the project "prj" of every fixture pool but plain-map.
// Its field specs leave "required" out where the default (true) is meant.
const testProjectJSON = `{"id":"prj","status":"ACTIVE","task_spec":{
 "input_spec":{
  "image":{"type":"url"},
  "sku":{"type":"string","required":false,"max_length":8,"pattern":"sku-[0-9]+"},
  "title":{"type":"string","required":false,"min_length":2},
  "priority":{"type":"integer","required":false,"min_value":1,"max_value":100},
  "score":{"type":"float","required":false,"min_value":0,"max_value":1},
  "tags":{"type":"array_string","required":false,"min_size":1,"max_size":3,"allowed_values":["a","b","c"]},
  "place":{"type":"coordinates","required":false},
  "meta":{"type":"json","required":false},
  "flag":{"type":"boolean","required":false},
  "mode":{"type":"string","required":false,"allowed_values":["fast","slow"]},
  "link":{"type":"URL","required":false},
  "shape":{"type":"geo_shape","required":false},
  "odd":{"type":"string","required":false,"pattern":"(?=lookahead)x"}
 },
 "output_spec":{
  "color":{"type":"string","allowed_values":["black","gray","other"]},
  "comment":{"type":"string","required":false,"max_length":20},
  "count":{"type":"integer","required":false}
 }}}`

const testMapProjectJSON = `{"id":"mapprj","status":"ACTIVE","assignments_issuing_type":"MAP_SELECTOR","task_spec":{"input_spec":{"image":{"type":"url"}},"output_spec":{"color":{"type":"string"}}}}`

// trainingJSON is served by GET /trainings/tr1 (GET /pools/tr1 answers 404).
const trainingJSON = `{"id":"tr1","project_id":"prj","status":"OPEN","training_tasks_in_task_suite_count":3}`

const notFoundJSON = `{"code":"DOES_NOT_EXIST","message":"There are no results for such parameters"}`

// newValidationClient returns a client whose transport serves the fixture
// pools, projects and training, and answers create calls with an empty
// success.
func newValidationClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	for id, body := range testPools() {
		mt.RegisterResponder(http.MethodGet, testBase+"/pools/"+id, httpmock.NewStringResponder(200, body))
	}
	mt.RegisterResponder(http.MethodGet, testBase+"/projects/prj", httpmock.NewStringResponder(200, testProjectJSON))
	mt.RegisterResponder(http.MethodGet, testBase+"/projects/mapprj", httpmock.NewStringResponder(200, testMapProjectJSON))
	for _, id := range []string{"missing", "tr1"} {
		mt.RegisterResponder(http.MethodGet, testBase+"/pools/"+id, httpmock.NewStringResponder(404, notFoundJSON))
	}
	mt.RegisterResponder(http.MethodGet, testBase+"/trainings/missing", httpmock.NewStringResponder(404, notFoundJSON))
	mt.RegisterResponder(http.MethodGet, testBase+"/trainings/tr1", httpmock.NewStringResponder(200, trainingJSON))
	mt.RegisterResponder(http.MethodPost, testBase+"/tasks", createResponder)
	mt.RegisterResponder(http.MethodPost, testBase+"/task-suites", createResponder)
	// tasks.go currently posts suites to /task_suites (toloka-api.md §3 says
	// /task-suites); both are served so these tests do not depend on the fix.
	mt.RegisterResponder(http.MethodPost, testBase+"/task_suites", createResponder)
	c, err := NewClient(append([]Option{WithAPIKey("test-key"), WithBaseURL(testBase), WithTransport(mt)}, opts...)...)
	require.NoError(t, err)
	return c, mt
}

// createResponder answers a create call the way Toloka does: the object for
// a single item, an index-keyed batch result for an array.
func createResponder(req *http.Request) (*http.Response, error) {
	var body json.RawMessage
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
		return nil, err
	}
	if len(body) > 0 && body[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, err
		}
		out := map[string]any{"items": map[string]json.RawMessage{}, "validation_errors": map[string]any{}}
		for i, it := range items {
			out["items"].(map[string]json.RawMessage)[strconv.Itoa(i)] = it
		}
		return httpmock.NewJsonResponse(201, out)
	}
	return httpmock.NewBytesResponse(201, body), nil
}

// calls returns how often method+path was requested.
func calls(mt *httpmock.MockTransport, method, path string) int {
	n := mt.GetCallCountInfo()[method+" "+testBase+path]
	if path == "/task-suites" {
		n += mt.GetCallCountInfo()[method+" "+testBase+"/task_suites"]
	}
	return n
}

// fixtureEnv builds the CheckEnv the client would build for the fixtures,
// for the pure CheckTasks / CheckTaskSuites.
func fixtureEnv(t *testing.T, allowDefaults bool) CheckEnv {
	t.Helper()
	env := CheckEnv{AllowDefaults: allowDefaults, RequirePools: true, Pools: map[string]*Pool{}, Projects: map[string]*Project{}}
	for id, body := range testPools() {
		var p Pool
		require.NoError(t, json.Unmarshal([]byte(body), &p))
		env.Pools[id] = &p
	}
	env.Pools["tr1"] = &Pool{ID: "tr1", ProjectID: "prj", Status: "OPEN", Training: true, Type: "TRAINING"}
	for _, body := range []string{testProjectJSON, testMapProjectJSON} {
		var p Project
		require.NoError(t, json.Unmarshal([]byte(body), &p))
		env.Projects[p.ID] = &p
	}
	return env
}

// validTask is a general task that fits pool "mix" and project "prj".
func validTask() Task {
	return Task{PoolID: "mix", InputValues: Values{"image": "https://example.com/1.png"}, Overlap: FiniteOverlap(3)}
}

// validSuite is a suite that fits pool "plain" and project "prj".
func validSuite() TaskSuite {
	return TaskSuite{PoolID: "plain", Overlap: FiniteOverlap(3), Tasks: []SuiteTask{
		{InputValues: Values{"image": "https://example.com/1.png"}},
		{InputValues: Values{"image": "https://example.com/2.png"}, KnownSolutions: []KnownSolution{{OutputValues: Values{"color": "gray"}}}},
	}}
}
