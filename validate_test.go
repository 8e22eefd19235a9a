package toloka

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ruleCase is one rule broken by one item; want lists "path CODE" of every
// expected error, with # standing for the item's index in the request.
type ruleCase struct {
	name          string
	allowDefaults bool
	want          []string
}

type taskCase struct {
	ruleCase
	task func() Task
}

type suiteCase struct {
	ruleCase
	suite func() TaskSuite
}

func withTask(f func(*Task)) func() Task {
	return func() Task { t := validTask(); f(&t); return t }
}

func withSuite(f func(*TaskSuite)) func() TaskSuite {
	return func() TaskSuite { s := validSuite(); f(&s); return s }
}

func withInput(k string, val any) func() Task {
	return withTask(func(t *Task) { t.InputValues[k] = val })
}

func withKnown(out Values) func() Task {
	return withTask(func(t *Task) {
		t.KnownSolutions = []KnownSolution{{OutputValues: out}}
		t.Overlap = InfiniteOverlap()
	})
}

func rc(name string, want ...string) ruleCase { return ruleCase{name: name, want: want} }

func taskCases() []taskCase {
	return []taskCase{
		// Field rules (toloka-api.md §4, §7.6).
		{rc("pool_id missing", "tasks[#].pool_id VALUE_REQUIRED"), withTask(func(t *Task) { t.PoolID = "" })},
		{rc("input_values empty", "tasks[#].input_values VALUE_REQUIRED"), withTask(func(t *Task) { t.InputValues = nil })},
		{rc("overlap missing", "tasks[#].overlap VALUE_REQUIRED"), withTask(func(t *Task) { t.Overlap = Overlap{} })},
		{rc("overlap below 1", "tasks[#].overlap VALUE_LESS_THAN_MIN"), withTask(func(t *Task) { t.Overlap = FiniteOverlap(0) })},
		{rc("overlap above 30000", "tasks[#].overlap VALUE_GREATER_THAN_MAX"), withTask(func(t *Task) { t.Overlap = FiniteOverlap(30001) })},
		{rc("correctness_weight above 1", "tasks[#].known_solutions[0].correctness_weight VALUE_GREATER_THAN_MAX"), withTask(func(t *Task) {
			t.KnownSolutions = []KnownSolution{{OutputValues: Values{"color": "gray"}, CorrectnessWeight: Ptr(1.5)}}
		})},
		{rc("correctness_weight below 0", "tasks[#].known_solutions[1].correctness_weight VALUE_LESS_THAN_MIN"), withTask(func(t *Task) {
			t.KnownSolutions = []KnownSolution{{OutputValues: Values{"color": "gray"}}, {OutputValues: Values{"color": "black"}, CorrectnessWeight: Ptr(-0.1)}}
		})},
		{rc("confidence_weight above 1", "tasks[#].baseline_solutions[0].confidence_weight VALUE_GREATER_THAN_MAX"), withTask(func(t *Task) {
			t.BaselineSolutions = []BaselineSolution{{OutputValues: Values{"color": "gray"}, ConfidenceWeight: Ptr(2.0)}}
		})},
		{rc("known solution without output", "tasks[#].known_solutions[0].output_values VALUE_REQUIRED"), withKnown(nil)},
		{rc("reserved_for duplicate", "tasks[#].reserved_for[2] DUPLICATE_VALUE_IN_ARRAY"), withTask(func(t *Task) { t.ReservedFor = []string{"a", "b", "a"} })},
		{rc("unavailable_for duplicate", "tasks[#].unavailable_for[1] DUPLICATE_VALUE_IN_ARRAY"), withTask(func(t *Task) { t.UnavailableFor = []string{"w", "w"} })},

		// Pool rules (toloka-api.md §7, §16).
		{rc("pool without smart mixing", "tasks[#].pool_id MIXER_CONFIG_REQUIRED"), withTask(func(t *Task) { t.PoolID = "plain" })},
		{rc("archived pool", "tasks[#].pool_id POOL_INAPPROPRIATE_STATUS"), withTask(func(t *Task) { t.PoolID = "mix-archived" })},
		{rc("pool that does not exist", "tasks[#].pool_id ENTITY_DOES_NOT_EXIST"), withTask(func(t *Task) { t.PoolID = "missing" })},
		{rc("control task, mixer issues no control tasks", "tasks[#].known_solutions POOL_TASK_TYPE_CONFLICT"), func() Task {
			t := withKnown(Values{"color": "gray"})()
			t.PoolID = "mix-nocontrol"
			return t
		}},
		{rc("training task, mixer issues no training tasks", "tasks[#].message_on_unknown_solution POOL_TASK_TYPE_CONFLICT"), func() Task {
			t := withKnown(Values{"color": "gray"})()
			t.PoolID, t.MessageOnUnknownSolution = "mix-nocontrol", "It is gray."
			return t
		}},
		{rc("general task, mixer issues no general tasks", "tasks[#].pool_id POOL_TASK_TYPE_CONFLICT"), withTask(func(t *Task) { t.PoolID = "mix-noreal" })},
		{rc("general task, zero-price pool", "tasks[#].known_solutions POOL_TASK_TYPE_CONFLICT"), withTask(func(t *Task) { t.PoolID = "mix-zero" })},
		{rc("general task, training pool", "tasks[#].known_solutions POOL_IS_TRAINING"), withTask(func(t *Task) { t.PoolID = "train" })},
		{rc("control task, training", "tasks[#].message_on_unknown_solution POOL_IS_TRAINING"), func() Task {
			t := withKnown(Values{"color": "gray"})()
			t.PoolID = "tr1"
			return t
		}},
		{ruleCase{name: "allow_defaults, pool has no task default", allowDefaults: true, want: []string{"tasks[#].overlap VALUE_REQUIRED"}}, withTask(func(t *Task) {
			t.PoolID, t.Overlap = "mix-nodefault", Overlap{}
		})},

		// task_spec rules (toloka-api.md §14.3, §14.4).
		{rc("required input missing", "tasks[#].input_values.image VALUE_REQUIRED"), withTask(func(t *Task) { t.InputValues = Values{"sku": "sku-1"} })},
		{rc("required input null", "tasks[#].input_values.image VALUE_REQUIRED"), withInput("image", nil)},
		{rc("unknown input field", "tasks[#].input_values.imagis VALUE_NOT_ALLOWED"), withInput("imagis", "x")},
		{rc("url without scheme", "tasks[#].input_values.image INVALID_URL_SYNTAX"), withInput("image", "example.com/1.png")},
		{rc("url type in upper case", "tasks[#].input_values.link INVALID_URL_SYNTAX"), withInput("link", "ftp://example.com")},
		{rc("string given a number", "tasks[#].input_values.sku STRING_EXPECTED"), withInput("sku", 42)},
		{rc("string given an array", "tasks[#].input_values.sku SIMPLE_VALUE_EXPECTED"), withInput("sku", []string{"sku-1"})},
		{rc("string too long", "tasks[#].input_values.sku STRING_LENGTH_GREATER_THAN_MAX"), withInput("sku", "sku-12345")},
		{rc("string too short", "tasks[#].input_values.title STRING_LENGTH_LESS_THAN_MIN"), withInput("title", "é")},
		{rc("string against pattern", "tasks[#].input_values.sku PATTERN_MISMATCH"), withInput("sku", "SKU-1")},
		{rc("string not allowed", "tasks[#].input_values.mode VALUE_NOT_ALLOWED"), withInput("mode", "medium")},
		{rc("integer given a string", "tasks[#].input_values.priority INTEGER_EXPECTED"), withInput("priority", "5")},
		{rc("integer given a fraction", "tasks[#].input_values.priority INTEGER_EXPECTED"), withInput("priority", 2.5)},
		{rc("integer below min", "tasks[#].input_values.priority VALUE_LESS_THAN_MIN"), withInput("priority", 0)},
		{rc("integer above max", "tasks[#].input_values.priority VALUE_GREATER_THAN_MAX"), withInput("priority", int64(101))},
		{rc("float given a string", "tasks[#].input_values.score FLOAT_EXPECTED"), withInput("score", "0.5")},
		{rc("float above max", "tasks[#].input_values.score VALUE_GREATER_THAN_MAX"), withInput("score", 1.01)},
		{rc("boolean given a string", "tasks[#].input_values.flag BOOLEAN_EXPECTED"), withInput("flag", "true")},
		{rc("coordinates malformed", "tasks[#].input_values.place INVALID_COORDINATES_SYNTAX"), withInput("place", "53.9;27.5")},
		{rc("coordinates as an array", "tasks[#].input_values.place SIMPLE_VALUE_EXPECTED"), withInput("place", []any{53.9, 27.5})},
		{rc("json given a string", "tasks[#].input_values.meta OBJECT_EXPECTED"), withInput("meta", "{}")},
		{rc("array given a scalar", "tasks[#].input_values.tags ARRAY_EXPECTED"), withInput("tags", "a")},
		{rc("array too short", "tasks[#].input_values.tags ARRAY_SIZE_LESS_THAN_MIN"), withInput("tags", []string{})},
		{rc("array too long", "tasks[#].input_values.tags ARRAY_SIZE_GREATER_THAN_MAX"), withInput("tags", []string{"a", "b", "c", "a"})},
		{rc("array element not allowed", "tasks[#].input_values.tags[1] VALUE_NOT_ALLOWED"), withInput("tags", []any{"a", "z"})},
		{rc("array element of wrong type", "tasks[#].input_values.tags[0] STRING_EXPECTED"), withInput("tags", []int{1})},
		{rc("known solution misses a required output", "tasks[#].known_solutions[0].output_values.color VALUE_REQUIRED"), withKnown(Values{"comment": "ok"})},
		{rc("known solution not allowed", "tasks[#].known_solutions[0].output_values.color VALUE_NOT_ALLOWED"), withKnown(Values{"color": "pink"})},
		{rc("known solution unknown output", "tasks[#].known_solutions[0].output_values.colour VALUE_NOT_ALLOWED"), withKnown(Values{"color": "gray", "colour": "gray"})},
		{rc("known solution too long", "tasks[#].known_solutions[0].output_values.comment STRING_LENGTH_GREATER_THAN_MAX"), withKnown(Values{"color": "gray", "comment": strings.Repeat("x", 21)})},
		{rc("baseline solution of wrong type", "tasks[#].baseline_solutions[0].output_values.count INTEGER_EXPECTED"), withTask(func(t *Task) {
			t.BaselineSolutions = []BaselineSolution{{OutputValues: Values{"count": "three"}}}
		})},
	}
}

func suiteCases() []suiteCase {
	return []suiteCase{
		// Field rules (toloka-api.md §5, §7.6).
		{rc("pool_id missing", "task_suites[#].pool_id VALUE_REQUIRED"), withSuite(func(s *TaskSuite) { s.PoolID = "" })},
		{rc("no tasks", "task_suites[#].tasks VALUE_REQUIRED"), withSuite(func(s *TaskSuite) { s.Tasks = nil })},
		{rc("suite task without input", "task_suites[#].tasks[1].input_values VALUE_REQUIRED"), withSuite(func(s *TaskSuite) { s.Tasks[1].InputValues = Values{} })},
		{rc("overlap missing", "task_suites[#].overlap VALUE_REQUIRED"), withSuite(func(s *TaskSuite) { s.Overlap = Overlap{} })},
		{rc("overlap below 1", "task_suites[#].overlap VALUE_LESS_THAN_MIN"), withSuite(func(s *TaskSuite) { s.Overlap = FiniteOverlap(-1) })},
		{rc("correctness_weight above 1", "task_suites[#].tasks[1].known_solutions[0].correctness_weight VALUE_GREATER_THAN_MAX"), withSuite(func(s *TaskSuite) {
			s.Tasks[1].KnownSolutions[0].CorrectnessWeight = Ptr(1.1)
		})},
		{rc("issuing_order_override too large", "task_suites[#].issuing_order_override VALUE_GREATER_THAN_MAX"), withSuite(func(s *TaskSuite) { s.IssuingOrderOverride = Ptr(1e6) })},
		{rc("issuing_order_override too small", "task_suites[#].issuing_order_override VALUE_LESS_THAN_MIN"), withSuite(func(s *TaskSuite) { s.IssuingOrderOverride = Ptr(-1e6) })},
		{rc("latitude without longitude", "task_suites[#].longitude VALUE_REQUIRED"), withSuite(func(s *TaskSuite) { s.Latitude = Ptr(53.9) })},
		{rc("longitude without latitude", "task_suites[#].latitude VALUE_REQUIRED"), withSuite(func(s *TaskSuite) { s.Longitude = Ptr(27.5) })},
		{rc("reserved_for duplicate", "task_suites[#].reserved_for[1] DUPLICATE_VALUE_IN_ARRAY"), withSuite(func(s *TaskSuite) { s.ReservedFor = []string{"a", "a"} })},
		{rc("unavailable_for duplicate", "task_suites[#].unavailable_for[1] DUPLICATE_VALUE_IN_ARRAY"), withSuite(func(s *TaskSuite) { s.UnavailableFor = []string{"a", "a"} })},

		// Pool rules (toloka-api.md §7).
		{rc("pool with smart mixing", "task_suites[#].pool_id POOL_TASK_TYPE_CONFLICT"), withSuite(func(s *TaskSuite) { s.PoolID = "mix" })},
		{rc("archived pool", "task_suites[#].pool_id POOL_INAPPROPRIATE_STATUS"), withSuite(func(s *TaskSuite) { s.PoolID = "plain-archive" })},
		{rc("pool that does not exist", "task_suites[#].pool_id ENTITY_DOES_NOT_EXIST"), withSuite(func(s *TaskSuite) { s.PoolID = "missing" })},
		{rc("general task, zero-price pool", "task_suites[#].tasks[0].known_solutions POOL_TASK_TYPE_CONFLICT"), withSuite(func(s *TaskSuite) { s.PoolID = "plain-zero" })},
		{rc("non-training tasks, training pool", "task_suites[#].tasks[0].known_solutions POOL_IS_TRAINING", "task_suites[#].tasks[1].message_on_unknown_solution POOL_IS_TRAINING"), withSuite(func(s *TaskSuite) { s.PoolID = "train" })},
		{ruleCase{name: "allow_defaults, pool has no suite default", allowDefaults: true, want: []string{"task_suites[#].overlap VALUE_REQUIRED"}}, withSuite(func(s *TaskSuite) {
			s.PoolID, s.Overlap = "plain-nodef", Overlap{}
		})},
		{rc("map selector project without location", "task_suites[#].latitude VALUE_REQUIRED"), withSuite(func(s *TaskSuite) {
			s.PoolID = "plain-map"
			s.Tasks[1].KnownSolutions = nil
		})},

		// task_spec rules (toloka-api.md §14.3).
		{rc("unknown input field", "task_suites[#].tasks[0].input_values.x VALUE_NOT_ALLOWED"), withSuite(func(s *TaskSuite) { s.Tasks[0].InputValues["x"] = 1 })},
		{rc("required input missing", "task_suites[#].tasks[1].input_values.image VALUE_REQUIRED"), withSuite(func(s *TaskSuite) { s.Tasks[1].InputValues = Values{"sku": "sku-1"} })},
		{rc("array element of wrong type", "task_suites[#].tasks[0].input_values.tags[2] STRING_EXPECTED"), withSuite(func(s *TaskSuite) { s.Tasks[0].InputValues["tags"] = []any{"a", "b", true} })},
		{rc("known solution not allowed", "task_suites[#].tasks[1].known_solutions[0].output_values.color VALUE_NOT_ALLOWED"), withSuite(func(s *TaskSuite) {
			s.Tasks[1].KnownSolutions[0].OutputValues["color"] = "pink"
		})},
	}
}

// endpoint runs one way of sending items and returns its error. index is
// the position the case's item gets in the request.
type endpoint[T any] struct {
	name  string
	index int
	pure  bool // sends nothing: no create request to check for
	run   func(ctx context.Context, t *testing.T, c *Client, item T, env CheckEnv, opts []CallOption) error
}

// uploadErr runs an upload and turns the items it rejected into a
// *ValidationError, as the other endpoints report them.
func uploadErr(run func(...UploadOption) (*UploadSummary, error)) error {
	var mu sync.Mutex
	var errs []FieldError
	_, err := run(OnResult(func(r ItemResult) {
		if r.Status == ItemRejected {
			mu.Lock()
			errs = append(errs, r.Errors...)
			mu.Unlock()
		}
	}))
	if err != nil {
		return err
	}
	return checkErr(errs)
}

func checkErr(errs []FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: errs}
}

func taskEndpoints() []endpoint[Task] {
	return []endpoint[Task]{
		{name: "CreateTask", index: 0, run: func(ctx context.Context, _ *testing.T, c *Client, item Task, _ CheckEnv, opts []CallOption) error {
			_, err := c.CreateTask(ctx, item, opts...)
			return err
		}},
		{name: "CreateTasks", index: 1, run: func(ctx context.Context, _ *testing.T, c *Client, item Task, _ CheckEnv, opts []CallOption) error {
			_, err := c.CreateTasks(ctx, []Task{validTask(), item}, opts...)
			return err
		}},
		{name: "CreateTasksAsync", index: 1, run: func(ctx context.Context, _ *testing.T, c *Client, item Task, _ CheckEnv, opts []CallOption) error {
			_, err := c.CreateTasksAsync(ctx, []Task{validTask(), item}, opts...)
			return err
		}},
		{name: "CreateTasksAndWait", index: 1, run: func(ctx context.Context, _ *testing.T, c *Client, item Task, _ CheckEnv, opts []CallOption) error {
			_, err := c.CreateTasksAndWait(ctx, []Task{validTask(), item}, opts...)
			return err
		}},
		{name: "UploadTasks", index: 0, run: func(ctx context.Context, _ *testing.T, c *Client, item Task, _ CheckEnv, opts []CallOption) error {
			return uploadErr(func(o ...UploadOption) (*UploadSummary, error) {
				return c.UploadTasks(ctx, TasksFromSlice([]Task{item}), append(o, WithCallOptions(opts...))...)
			})
		}},
		{name: "ValidateTasks", index: 2, pure: true, run: func(ctx context.Context, _ *testing.T, c *Client, item Task, _ CheckEnv, opts []CallOption) error {
			return c.ValidateTasks(ctx, []Task{validTask(), validTask(), item}, opts...)
		}},
		{name: "CheckTasks", index: 1, pure: true, run: func(_ context.Context, _ *testing.T, _ *Client, item Task, env CheckEnv, _ []CallOption) error {
			return checkErr(CheckTasks([]Task{validTask(), item}, env))
		}},
	}
}

func suiteEndpoints() []endpoint[TaskSuite] {
	return []endpoint[TaskSuite]{
		{name: "CreateTaskSuite", index: 0, run: func(ctx context.Context, _ *testing.T, c *Client, item TaskSuite, _ CheckEnv, opts []CallOption) error {
			_, err := c.CreateTaskSuite(ctx, item, opts...)
			return err
		}},
		{name: "CreateTaskSuites", index: 1, run: func(ctx context.Context, _ *testing.T, c *Client, item TaskSuite, _ CheckEnv, opts []CallOption) error {
			_, err := c.CreateTaskSuites(ctx, []TaskSuite{validSuite(), item}, opts...)
			return err
		}},
		{name: "CreateTaskSuitesAsync", index: 1, run: func(ctx context.Context, _ *testing.T, c *Client, item TaskSuite, _ CheckEnv, opts []CallOption) error {
			_, err := c.CreateTaskSuitesAsync(ctx, []TaskSuite{validSuite(), item}, opts...)
			return err
		}},
		{name: "CreateTaskSuitesAndWait", index: 1, run: func(ctx context.Context, _ *testing.T, c *Client, item TaskSuite, _ CheckEnv, opts []CallOption) error {
			_, err := c.CreateTaskSuitesAndWait(ctx, []TaskSuite{validSuite(), item}, opts...)
			return err
		}},
		{name: "UploadTaskSuites", index: 0, run: func(ctx context.Context, _ *testing.T, c *Client, item TaskSuite, _ CheckEnv, opts []CallOption) error {
			return uploadErr(func(o ...UploadOption) (*UploadSummary, error) {
				return c.UploadTaskSuites(ctx, TaskSuitesFromSlice([]TaskSuite{item}), append(o, WithCallOptions(opts...))...)
			})
		}},
		{name: "ValidateTaskSuites", index: 2, pure: true, run: func(ctx context.Context, _ *testing.T, c *Client, item TaskSuite, _ CheckEnv, opts []CallOption) error {
			return c.ValidateTaskSuites(ctx, []TaskSuite{validSuite(), validSuite(), item}, opts...)
		}},
		{name: "CheckTaskSuites", index: 1, pure: true, run: func(_ context.Context, _ *testing.T, _ *Client, item TaskSuite, env CheckEnv, _ []CallOption) error {
			return checkErr(CheckTaskSuites([]TaskSuite{validSuite(), item}, env))
		}},
	}
}

// assertRule checks that err lists exactly the wanted "path CODE" pairs,
// each with a message, and that nothing was created.
func assertRule(t *testing.T, err error, want []string, index int, mt *httpmock.MockTransport) {
	t.Helper()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.ErrorIs(t, err, ErrValidation)
	var got []string
	for _, fe := range ve.Errors {
		got = append(got, fe.Path()+" "+fe.Code)
		assert.NotEmpty(t, fe.Message, fe.Path())
		assert.Equal(t, index, fe.Index)
	}
	expected := make([]string, len(want))
	for k, w := range want {
		expected[k] = strings.ReplaceAll(w, "#", strconv.Itoa(index))
	}
	assert.Equal(t, expected, got)
	if mt != nil {
		assert.Zero(t, calls(mt, "POST", "/tasks")+calls(mt, "POST", "/task-suites"), "an invalid request was sent")
	}
}

func TestTaskRulesOnEveryEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range taskCases() {
		for _, ep := range taskEndpoints() {
			t.Run(tc.name+"/"+ep.name, func(t *testing.T) {
				t.Parallel()
				c, mt := newValidationClient(t)
				err := ep.run(context.Background(), t, c, tc.task(), fixtureEnv(t, tc.allowDefaults), []CallOption{CreateOptions{AllowDefaults: tc.allowDefaults}})
				assertRule(t, err, tc.want, ep.index, mt)
			})
		}
	}
}

func TestSuiteRulesOnEveryEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range suiteCases() {
		for _, ep := range suiteEndpoints() {
			t.Run(tc.name+"/"+ep.name, func(t *testing.T) {
				t.Parallel()
				c, mt := newValidationClient(t)
				err := ep.run(context.Background(), t, c, tc.suite(), fixtureEnv(t, tc.allowDefaults), []CallOption{CreateOptions{AllowDefaults: tc.allowDefaults}})
				assertRule(t, err, tc.want, ep.index, mt)
			})
		}
	}
}

// TestValidItemsPass sends items that bend no rule, including the edge
// cases the checks must accept, and expects them created.
func TestValidItemsPass(t *testing.T) {
	t.Parallel()
	tasks := []Task{
		validTask(),
		{PoolID: "mix", Overlap: FiniteOverlap(1), InputValues: Values{
			"image": "www.example.com/a.png", "sku": "sku-42", "title": "ab", "priority": json.Number("100"),
			"score": 0, "tags": []string{"a", "c"}, "place": "53.910236, 27.531110", "meta": map[string]any{"batch": 7},
			"flag": false, "mode": "slow", "link": "HTTPS://EXAMPLE.COM", "shape": []int{1, 2}, "odd": "anything",
		}},
		// Optional fields may be null; integer fields take whole floats.
		{PoolID: "mix", Overlap: InfiniteOverlap(), InputValues: Values{"image": "http://x", "sku": nil, "priority": 7.0},
			KnownSolutions: []KnownSolution{{OutputValues: Values{"color": "gray", "count": 2}}}},
		// Training task into a training (found through /trainings): no overlap needed with defaults.
		{PoolID: "tr1", InputValues: Values{"image": "http://x"}, KnownSolutions: []KnownSolution{{OutputValues: Values{"color": "gray"}}}, MessageOnUnknownSolution: "gray"},
		// Control task into a mixer that issues control tasks through a distribution function.
		{PoolID: "mix-golddist", Overlap: InfiniteOverlap(), InputValues: Values{"image": "http://x"}, KnownSolutions: []KnownSolution{{OutputValues: Values{"color": "gray"}}}},
		// Baseline solutions need not give every required output.
		{PoolID: "mix", Overlap: FiniteOverlap(2), InputValues: Values{"image": "http://x"}, BaselineSolutions: []BaselineSolution{{OutputValues: Values{"comment": "hm"}}}},
		// A pool default covers the missing overlap.
		{PoolID: "mix", InputValues: Values{"image": "http://x"}},
	}
	c, mt := newValidationClient(t)
	res, err := c.CreateTasks(context.Background(), tasks, CreateOptions{AllowDefaults: true})
	require.NoError(t, err)
	assert.Len(t, res.Items, len(tasks))
	assert.Equal(t, 1, calls(mt, "POST", "/tasks"))

	suites := []TaskSuite{validSuite(), {PoolID: "plain-map", Overlap: FiniteOverlap(1), Latitude: Ptr(53.9), Longitude: Ptr(27.5),
		Tasks: []SuiteTask{{InputValues: Values{"image": "http://x"}}}}}
	_, err = c.CreateTaskSuites(context.Background(), suites)
	require.NoError(t, err)
	assert.Equal(t, 1, calls(mt, "POST", "/task-suites"))
}
