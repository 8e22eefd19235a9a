package toloka

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// recorded is what the mock server saw of one request.
type recorded struct {
	method      string
	path        string
	query       url.Values
	body        []byte
	contentType string
}

// recordingResponder records the request and answers with status and body.
func recordingResponder(rec *recorded, status int, body string) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		rec.method, rec.path, rec.query = r.Method, r.URL.Path, r.URL.Query()
		rec.contentType = r.Header.Get("Content-Type")
		if r.Body != nil {
			rec.body, _ = io.ReadAll(r.Body)
		}
		return httpmock.NewStringResponse(status, body), nil
	}
}

// assertGolden compares a JSON body with testdata/golden/name, byte for byte
// after indenting, so key order and every emitted field are pinned.
func assertGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var pretty bytes.Buffer
	require.NoError(t, json.Indent(&pretty, body, "", "  "))
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", "golden", name)
	if *updateGolden {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, pretty.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run %s -update to create it", t.Name())
	assert.Equal(t, string(want), pretty.String())
}

// sampleTask is the documented single task body of toloka-api.md §10.1.
func sampleTask() Task {
	return Task{
		PoolID:      "1238218",
		InputValues: Values{"image_url": "https://example.com/image_example.png"},
		KnownSolutions: []KnownSolution{
			{OutputValues: Values{"result": "OK", "like": false}, CorrectnessWeight: Ptr(0.8)},
			{OutputValues: Values{"result": "OK", "like": true}, CorrectnessWeight: Ptr(1.0)},
		},
		BaselineSolutions: []BaselineSolution{
			{OutputValues: Values{"result": "OK", "like": false}, ConfidenceWeight: Ptr(0.8)},
		},
		MessageOnUnknownSolution: "The cat is in a good mood.",
		Overlap:                  InfiniteOverlap(),
		ReservedFor:              []string{"w1"},
		TraitsAnyOf:              []string{"t"},
		LocalizationConfig: &TaskLocalizationConfig{DefaultLanguage: "EN", AdditionalLanguages: []TaskLanguageTranslation{
			{Language: "RU", MessageOnUnknownSolution: &LocalizedString{Value: "Кот в хорошем настроении.", Source: "REQUESTER"}},
		}},
		// Read-only fields a caller may have copied from a response: never sent.
		ID: "should-not-be-sent", OriginTaskID: "nor-this", RemainingOverlap: Ptr[int64](3),
	}
}

func sampleSuite() TaskSuite {
	return TaskSuite{
		PoolID: "1238218",
		Tasks: []SuiteTask{
			{InputValues: Values{"image_url": "https://example.com/image1.png"},
				KnownSolutions:           []KnownSolution{{OutputValues: Values{"color": "black"}, CorrectnessWeight: Ptr(0.95)}},
				MessageOnUnknownSolution: "The elephant is black"},
			{InputValues: Values{"image_url": "https://example.com/image2.png?a=1&b=<2>"}, ID: "read-only"},
		},
		Overlap:              FiniteOverlap(3),
		IssuingOrderOverride: Ptr(3.0),
		Mixed:                Ptr(false),
		Latitude:             Ptr(55.75),
		Longitude:            Ptr(37.62),
		UnavailableFor:       []string{"w9"},
		Automerged:           true, // read-only
	}
}

func TestCreateTaskSendsDocumentedShape(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	var rec recorded
	// The documented response of toloka-api.md §10.1.
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/tasks", recordingResponder(&rec, 201, `{
	  "id": "000248a756--6422ca21e5997032541d856b", "created": "2023-03-28T11:06:09.827", "pool_id": "38315862",
	  "input_values": { "image_url": "https://example.com/image1.jpg" },
	  "overlap": 3, "infinite_overlap": false, "remaining_overlap": 3, "reserved_for": [], "unavailable_for": []}`))

	task, err := c.CreateTask(context.Background(), sampleTask(), CreateOptions{AllowDefaults: true})
	require.NoError(t, err)
	assert.Equal(t, "000248a756--6422ca21e5997032541d856b", task.ID)
	assert.EqualValues(t, 3, *task.RemainingOverlap)
	assert.Equal(t, url.Values{"async_mode": {"false"}, "allow_defaults": {"true"}}, rec.query)
	assert.Equal(t, "application/json", rec.contentType)
	assertGolden(t, "create_task.json", rec.body)
}

func TestCreateTasksBatchResult(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	var rec recorded
	// toloka-api.md §10.2.
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/tasks", recordingResponder(&rec, 201, `{
	  "items": { "0": { "id": "f432cac2-7184-47a3-8220-12ce362cb208", "pool_id": "21",
	                    "input_values": { "image": "http://images.com/1.png" }, "overlap": 3, "created": "2016-09-29T18:04:00" } },
	  "validation_errors": {
	    "1": { "input_values.image":  { "code": "VALUE_REQUIRED", "message": "Value must be present and not equal to null" } },
	    "2": { "input_values.image":  { "code": "VALUE_REQUIRED", "message": "Value must be present and not equal to null" },
	           "input_values.imagis": { "code": "VALUE_NOT_ALLOWED", "message": "Unknown field name" } } } }`))

	tasks := []Task{
		{PoolID: "21", InputValues: Values{"image": "http://images.com/1.png"}},
		{PoolID: "21", InputValues: Values{"image": nil}},
		{PoolID: "21", InputValues: Values{"imagis": "http://images.com/3.png"}},
	}
	res, err := c.CreateTasks(context.Background(), tasks, CreateOptions{AllowDefaults: true, SkipInvalidItems: true})
	require.NoError(t, err, "partial success is not an error")
	assert.Equal(t, url.Values{"async_mode": {"false"}, "allow_defaults": {"true"}, "skip_invalid_items": {"true"}}, rec.query)
	assertGolden(t, "create_tasks.json", rec.body)

	assert.Equal(t, []int{0}, res.CreatedIndexes())
	assert.Equal(t, "f432cac2-7184-47a3-8220-12ce362cb208", res.Items[0].ID)
	assert.Equal(t, []int{1, 2}, res.RejectedIndexes())
	require.Len(t, res.ValidationErrors[2], 2)
	assert.Equal(t, "tasks[2].input_values.imagis", res.ValidationErrors[2][1].Path())
	assert.Equal(t, 2, res.ValidationErrors[2][1].Index)

	err = res.Err()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.ErrorIs(t, err, ErrValidation)
	assert.Equal(t, []int{1, 2}, ve.Indexes())
	assert.Contains(t, err.Error(), "tasks[1].input_values.image: VALUE_REQUIRED")
	assert.Contains(t, err.Error(), "tasks[2].input_values.imagis: VALUE_NOT_ALLOWED: Unknown field name")
}

func TestBatchResultWithoutRejections(t *testing.T) {
	t.Parallel()
	res, err := decodeBatchResult[Task]([]byte(`{"items":{"1":{"id":"b"},"0":{"id":"a"}}}`), collectionTasks)
	require.NoError(t, err)
	assert.NoError(t, res.Err())
	assert.Equal(t, []int{0, 1}, res.CreatedIndexes())
	assert.Empty(t, res.RejectedIndexes())

	for _, bad := range []string{`{"items":{"x":{}}}`, `{"validation_errors":{"y":{}}}`, `[]`, `{"items":[1]}`} {
		_, err := decodeBatchResult[Task]([]byte(bad), collectionTasks)
		assert.Error(t, err, bad)
	}
}

func TestCreateQueryParameters(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		opts []CallOption
		want url.Values
	}{
		"none":          {nil, url.Values{"async_mode": {"false"}}},
		"all":           {[]CallOption{CreateOptions{AllowDefaults: true, SkipInvalidItems: true, OpenPool: true}}, url.Values{"async_mode": {"false"}, "allow_defaults": {"true"}, "skip_invalid_items": {"true"}, "open_pool": {"true"}}},
		"open pool":     {[]CallOption{CreateOptions{OpenPool: true}}, url.Values{"async_mode": {"false"}, "open_pool": {"true"}}},
		"explicit zero": {[]CallOption{CreateOptions{}}, url.Values{"async_mode": {"false"}}},
		"last wins":     {[]CallOption{CreateOptions{OpenPool: true}, CreateOptions{SkipInvalidItems: true}}, url.Values{"async_mode": {"false"}, "skip_invalid_items": {"true"}}},
		"nil option":    {[]CallOption{nil, CreateOptions{AllowDefaults: true}}, url.Values{"async_mode": {"false"}, "allow_defaults": {"true"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			var taskRec, suiteRec recorded
			mt.RegisterResponder(http.MethodPost, ProductionURL+"/tasks", recordingResponder(&taskRec, 201, `{"items":{"0":{"id":"1"}}}`))
			mt.RegisterResponder(http.MethodPost, ProductionURL+"/task-suites", recordingResponder(&suiteRec, 201, `{"items":{"0":{"id":"1"}}}`))
			task := Task{PoolID: "1", InputValues: Values{"a": "b"}, Overlap: FiniteOverlap(1)}
			_, err := c.CreateTasks(context.Background(), []Task{task}, tc.opts...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, taskRec.query)
			suite := TaskSuite{PoolID: "1", Tasks: []SuiteTask{{InputValues: Values{"a": "b"}}}, Overlap: FiniteOverlap(1)}
			_, err = c.CreateTaskSuites(context.Background(), []TaskSuite{suite}, tc.opts...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, suiteRec.query)
		})
	}
}

func TestCreateTaskSuite(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	var rec recorded
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/task-suites", recordingResponder(&rec, 201, `{
	  "id": "00022cfa46--637cf41c9376542ef7b52bde", "pool_id": "1238218",
	  "tasks": [ { "id": "t1", "input_values": { "image_url": "https://example.com/image1.png" } } ],
	  "overlap": 3, "infinite_overlap": false, "mixed": false, "automerged": false,
	  "created": "2022-11-22T16:09:00.308", "remaining_overlap": 3 }`))
	suite, err := c.CreateTaskSuite(context.Background(), sampleSuite(), CreateOptions{OpenPool: true})
	require.NoError(t, err)
	assert.Equal(t, "00022cfa46--637cf41c9376542ef7b52bde", suite.ID)
	assert.Equal(t, "t1", suite.Tasks[0].ID)
	assert.Equal(t, url.Values{"async_mode": {"false"}, "open_pool": {"true"}}, rec.query)
	assert.Equal(t, "/api/v1/task-suites", rec.path)
	assertGolden(t, "create_task_suite.json", rec.body)
}

func TestCreateTaskSuitesBatchResult(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	var rec recorded
	// toloka-api.md §10.7: indices 1 and 3 failed.
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/task-suites", recordingResponder(&rec, 201, `{
	  "items": { "0": { "id": "s0", "pool_id": "36502086", "tasks": [], "overlap": 1, "created": "2022-11-22T16:09:00.308" },
	             "2": { "id": "s2", "pool_id": "36502086", "tasks": [], "overlap": 1, "created": "2022-11-22T16:09:00.308" } },
	  "validation_errors": { "1": { "tasks.0.input_values.image": { "code": "INVALID_URL_SYNTAX", "message": "Value must be in valid url format" } },
	                         "3": { "tasks.1.input_values.image": { "code": "VALUE_REQUIRED", "message": "Value must be present" } } } }`))
	suites := make([]TaskSuite, 4)
	for i := range suites {
		suites[i] = TaskSuite{PoolID: "36502086", Tasks: []SuiteTask{{InputValues: Values{"image": "https://e.com/" + string(rune('a'+i))}}}, Overlap: FiniteOverlap(1)}
	}
	res, err := c.CreateTaskSuites(context.Background(), suites, CreateOptions{SkipInvalidItems: true})
	require.NoError(t, err)
	assertGolden(t, "create_task_suites.json", rec.body)
	assert.Equal(t, []int{0, 2}, res.CreatedIndexes())
	assert.Equal(t, "s2", res.Items[2].ID)
	assert.Equal(t, []int{1, 3}, res.RejectedIndexes())
	assert.Equal(t, "task_suites[1].tasks[0].input_values.image", res.ValidationErrors[1][0].Path())
	assert.Equal(t, "INVALID_URL_SYNTAX", res.ValidationErrors[1][0].Code)
}

func TestCreateTasksAllOrNothingRejection(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	// The inferred shape of toloka-api.md §2.3: 400 with a payload keyed by index.
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/tasks", httpmock.NewStringResponder(400, `{"request_id":"r1","code":"VALIDATION_ERROR","message":"Validation failed",
	  "payload":{"1":{"input_values.image":{"code":"VALUE_REQUIRED","message":"Value must be present and not equal to null"}}}}`))
	tasks := []Task{
		{PoolID: "21", InputValues: Values{"image": "http://images.com/1.png"}, Overlap: FiniteOverlap(1)},
		{PoolID: "21", InputValues: Values{"x": 1}, Overlap: FiniteOverlap(1)},
	}
	_, err := c.CreateTasks(context.Background(), tasks)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, ErrValidation)
	require.Len(t, apiErr.FieldErrors, 1)
	assert.Equal(t, "tasks[1].input_values.image", apiErr.FieldErrors[0].Path())
	assert.Contains(t, err.Error(), "tasks[1].input_values.image: VALUE_REQUIRED")

	// The single-object form has a flat payload: the path has no index.
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/task-suites", httpmock.NewStringResponder(400, `{"code":"VALIDATION_ERROR","message":"Validation failed",
	  "payload":{"tasks.0.baseline_solutions":{"code":"VALUE_NOT_ALLOWED","message":"not allowed"}}}`))
	_, err = c.CreateTaskSuite(context.Background(), TaskSuite{PoolID: "1", Tasks: []SuiteTask{{InputValues: Values{"a": 1}}}, Overlap: FiniteOverlap(1)})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "tasks[0].baseline_solutions", apiErr.FieldErrors[0].Path())
}

func TestSyncBatchLimits(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.CreateTasks(context.Background(), nil)
	require.ErrorContains(t, err, "no tasks to create")
	_, err = c.CreateTaskSuites(context.Background(), []TaskSuite{})
	require.ErrorContains(t, err, "no task_suites to create")

	tooMany := make([]Task, MaxSyncBatch+1)
	_, err = c.CreateTasks(context.Background(), tooMany)
	require.ErrorContains(t, err, "5001 tasks in one synchronous request; Toloka takes at most 5000")
	assert.Contains(t, err.Error(), "UploadTasks")
	assert.ErrorIs(t, err, ErrValidation)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, CodeEntityTooLarge, ve.Errors[0].Code)
	_, err = c.CreateTaskSuites(context.Background(), make([]TaskSuite, MaxSyncBatch+1))
	require.ErrorContains(t, err, "5001 task_suites")
	assert.Zero(t, mt.GetTotalCallCount(), "nothing is sent")
}

func TestCreateRejectsInvalidItemsBeforeSending(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.CreateTasks(context.Background(), []Task{
		{PoolID: "1", InputValues: Values{"a": 1}, Overlap: FiniteOverlap(1)},
		{InputValues: Values{}, Overlap: FiniteOverlap(0)},
	})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []int{1}, ve.Indexes())
	assert.Contains(t, err.Error(), "tasks[1].pool_id: VALUE_REQUIRED")
	assert.Contains(t, err.Error(), "tasks[1].input_values: VALUE_REQUIRED")
	assert.Contains(t, err.Error(), "tasks[1].overlap: VALUE_LESS_THAN_MIN")
	assert.Zero(t, mt.GetTotalCallCount())

	// SkipValidation leaves the judgement to the server.
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/tasks", httpmock.NewStringResponder(201, `{"id":"t"}`))
	_, err = c.CreateTask(context.Background(), Task{PoolID: "1"}, SkipValidation())
	require.NoError(t, err)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestCreateTasksMalformedSuccessBody(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/tasks", httpmock.NewStringResponder(201, `{"items":{"zero":{}}}`))
	_, err := c.CreateTasks(context.Background(), []Task{{PoolID: "1", InputValues: Values{"a": 1}, Overlap: FiniteOverlap(1)}})
	require.ErrorContains(t, err, `decoding batch result: item key "zero" is not an index`)
	assert.ErrorIs(t, err, ErrOutcomeUnknown, "the batch was applied, but which tasks exist is unknown")

	mt.RegisterResponder(http.MethodPost, ProductionURL+"/task-suites", httpmock.NewStringResponder(201, `{"id":"s1","pool_id":`))
	_, err = c.CreateTaskSuite(context.Background(), TaskSuite{PoolID: "1", Tasks: []SuiteTask{{InputValues: Values{"a": 1}}}, Overlap: FiniteOverlap(1)})
	require.ErrorContains(t, err, "decoding 201 response")
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
}

func TestSkipInvalidItemsLeavesClientRejectionsOutOfTheRequest(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	var rec recorded
	// The server sees items 0 and 2 of the caller as its 0 and 1, creates the
	// first and rejects the second.
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/tasks", recordingResponder(&rec, 201, `{
	  "items": {"0": {"id": "a", "pool_id": "1"}},
	  "validation_errors": {"1": {"input_values.image": {"code": "INVALID_URL_SYNTAX", "message": "Value must be in valid url format"}}}}`))
	tasks := []Task{
		{PoolID: "1", InputValues: Values{"image": "https://e.com/0.png"}, Overlap: FiniteOverlap(1)},
		{PoolID: "1", InputValues: Values{"image": "https://e.com/1.png"}, Overlap: FiniteOverlap(0)},
		{PoolID: "1", InputValues: Values{"image": "e.com/2.png"}, Overlap: FiniteOverlap(1)},
		{PoolID: "", InputValues: Values{"image": "https://e.com/3.png"}, Overlap: FiniteOverlap(1)},
	}
	res, err := c.CreateTasks(context.Background(), tasks, CreateOptions{SkipInvalidItems: true})
	require.NoError(t, err)
	var sent []map[string]any
	require.NoError(t, json.Unmarshal(rec.body, &sent))
	require.Len(t, sent, 2, "the invalid items were not sent")
	assert.Equal(t, "https://e.com/0.png", sent[0]["input_values"].(map[string]any)["image"])
	assert.Equal(t, "e.com/2.png", sent[1]["input_values"].(map[string]any)["image"])

	assert.Equal(t, []int{0}, res.CreatedIndexes())
	assert.Equal(t, "a", res.Items[0].ID)
	assert.Equal(t, []int{1, 2, 3}, res.RejectedIndexes())
	assert.Equal(t, "tasks[1].overlap", res.ValidationErrors[1][0].Path())
	assert.Equal(t, "tasks[2].input_values.image", res.ValidationErrors[2][0].Path(), "the server's index 1 is the caller's 2")
	assert.Equal(t, 2, res.ValidationErrors[2][0].Index)
	assert.Equal(t, "tasks[3].pool_id", res.ValidationErrors[3][0].Path())

	// Every item invalid: nothing is sent and nothing fails.
	before := mt.GetTotalCallCount()
	res, err = c.CreateTasks(context.Background(), tasks[1:2], CreateOptions{SkipInvalidItems: true})
	require.NoError(t, err)
	assert.Empty(t, res.Items)
	assert.Equal(t, []int{0}, res.RejectedIndexes())
	assert.Equal(t, before, mt.GetTotalCallCount())

	// Without SkipInvalidItems the call fails as a whole, before sending.
	_, err = c.CreateTasks(context.Background(), tasks)
	require.ErrorIs(t, err, ErrValidation)
	assert.Equal(t, before, mt.GetTotalCallCount())
}

func TestBatchResultWithForeignIndexIsRefused(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/tasks", httpmock.NewStringResponder(201, `{"items":{"5":{"id":"x"}}}`))
	_, err := c.CreateTasks(context.Background(), []Task{{PoolID: "1", InputValues: Values{"a": 1}, Overlap: FiniteOverlap(1)}})
	require.ErrorContains(t, err, "item index 5, but the request had 1 items")
}

func TestServerRejectionOfTheSentItemsNamesTheCallersIndexes(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	// Item 0 is rejected by the client and not sent; the server sees the
	// caller's item 1 as its 0 and rejects the request as a whole.
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/tasks", httpmock.NewStringResponder(400, `{"code":"VALIDATION_ERROR","message":"Validation failed",
	  "payload":{"0":{"input_values.a":{"code":"VALUE_NOT_ALLOWED","message":"Unknown field name"}}}}`))
	_, err := c.CreateTasks(context.Background(), []Task{
		{PoolID: "1", InputValues: Values{"a": 1}},
		{PoolID: "1", InputValues: Values{"a": 1}, Overlap: FiniteOverlap(1)},
	}, CreateOptions{SkipInvalidItems: true})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	require.Len(t, apiErr.FieldErrors, 2)
	assert.Equal(t, "tasks[0].overlap", apiErr.FieldErrors[0].Path(), "the client's own rejection is kept")
	assert.Equal(t, "tasks[1].input_values.a", apiErr.FieldErrors[1].Path(), "the server's index 0 is the caller's 1")
}
