package toloka

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSkipValidationSendsWithoutLookups(t *testing.T) {
	t.Parallel()
	c, mt := newValidationClient(t)
	bad := validTask()
	bad.PoolID, bad.Overlap = "plain", FiniteOverlap(0)
	_, err := c.CreateTasks(context.Background(), []Task{bad}, SkipValidation())
	require.NoError(t, err)
	assert.Equal(t, 1, calls(mt, "POST", "/tasks"))
	assert.Zero(t, calls(mt, "GET", "/pools/plain"))
	assert.NoError(t, c.ValidateTasks(context.Background(), []Task{bad}, SkipValidation()))
}

func TestSkipLookupsKeepsFieldRulesOnly(t *testing.T) {
	t.Parallel()
	c, mt := newValidationClient(t)
	// A task for a pool without smart mixing, with an unknown input field:
	// both pass without lookups; the broken overlap does not.
	tk := validTask()
	tk.PoolID, tk.InputValues["imagis"] = "plain", "x"
	require.NoError(t, c.ValidateTasks(context.Background(), []Task{tk}, SkipLookups()))
	tk.Overlap = FiniteOverlap(0)
	err := c.ValidateTasks(context.Background(), []Task{tk}, SkipLookups())
	assertRule(t, err, []string{"tasks[#].overlap VALUE_LESS_THAN_MIN"}, 0, nil)
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestSkipLookupsUsesSuppliedPoolAndProject(t *testing.T) {
	t.Parallel()
	c, mt := newValidationClient(t)
	env := fixtureEnv(t, false)
	tk := validTask()
	tk.PoolID, tk.InputValues["imagis"] = "plain", "x"
	err := c.ValidateTasks(context.Background(), []Task{tk}, SkipLookups(), WithPool(env.Pools["plain"]), WithProject(env.Projects["prj"]))
	assertRule(t, err, []string{"tasks[#].input_values.imagis VALUE_NOT_ALLOWED", "tasks[#].pool_id MIXER_CONFIG_REQUIRED"}, 0, nil)
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestWithPoolSkipsOnlyThatLookup(t *testing.T) {
	t.Parallel()
	c, mt := newValidationClient(t)
	// The supplied pool wins over the server's: here it has no mixer_config.
	supplied := &Pool{ID: "mix", ProjectID: "prj", Status: PoolOpen}
	err := c.ValidateTasks(context.Background(), []Task{validTask()}, WithPool(supplied), WithPool(nil), WithProject(nil))
	assertRule(t, err, []string{"tasks[#].pool_id MIXER_CONFIG_REQUIRED"}, 0, nil)
	assert.Zero(t, calls(mt, "GET", "/pools/mix"))
	assert.Equal(t, 1, calls(mt, "GET", "/projects/prj"), "the project is still looked up")
}

func TestSkipSpecChecksKeepsPoolRules(t *testing.T) {
	t.Parallel()
	c, mt := newValidationClient(t)
	tk := validTask()
	tk.InputValues["imagis"] = "x"
	require.NoError(t, c.ValidateTasks(context.Background(), []Task{tk}, SkipSpecChecks()))
	tk.PoolID = "plain"
	err := c.ValidateTasks(context.Background(), []Task{tk}, SkipSpecChecks())
	assertRule(t, err, []string{"tasks[#].pool_id MIXER_CONFIG_REQUIRED"}, 0, nil)
	assert.Zero(t, calls(mt, "GET", "/projects/prj"))
}

func TestPoolLookupFailureStopsTheCall(t *testing.T) {
	t.Parallel()
	c, mt := newValidationClient(t)
	mt.RegisterResponder(http.MethodGet, testBase+"/pools/mix", httpmock.NewStringResponder(403, `{"code":"ACCESS_DENIED","message":"Access denied"}`))
	_, err := c.CreateTasks(context.Background(), []Task{validTask()})
	require.ErrorIs(t, err, ErrAccessDenied)
	assert.Contains(t, err.Error(), "looking up pool mix")
	assert.Contains(t, err.Error(), "SkipLookups()")
	assert.NotContains(t, err.Error(), "test-key")
	assert.Zero(t, calls(mt, "POST", "/tasks"))

	_, err = c.CreateTasks(context.Background(), []Task{validTask()}, SkipLookups())
	require.NoError(t, err, "SkipLookups trusts the server")
}

func TestProjectLookup(t *testing.T) {
	t.Parallel()
	t.Run("404 skips the task_spec checks", func(t *testing.T) {
		t.Parallel()
		c, mt := newValidationClient(t)
		mt.RegisterResponder(http.MethodGet, testBase+"/projects/prj", httpmock.NewStringResponder(404, notFoundJSON))
		tk := validTask()
		tk.InputValues["imagis"] = "x"
		require.NoError(t, c.ValidateTasks(context.Background(), []Task{tk}))
	})
	t.Run("other failures stop the call", func(t *testing.T) {
		t.Parallel()
		c, mt := newValidationClient(t)
		mt.RegisterResponder(http.MethodGet, testBase+"/projects/prj", httpmock.NewStringResponder(403, `{"code":"ACCESS_DENIED","message":"Access denied"}`))
		err := c.ValidateTasks(context.Background(), []Task{validTask()})
		require.ErrorIs(t, err, ErrAccessDenied)
		assert.Contains(t, err.Error(), "SkipSpecChecks()")
	})
}

func TestCanceledContextStopsLookups(t *testing.T) {
	t.Parallel()
	c, mt := newValidationClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.CreateTasks(ctx, []Task{validTask()})
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, mt.GetTotalCallCount())
}

// TestSuitesIntoSmartMixingPoolMessage pins the text the README shows.
func TestSuitesIntoSmartMixingPoolMessage(t *testing.T) {
	t.Parallel()
	c, _ := newValidationClient(t)
	s := validSuite()
	s.PoolID = "mix"
	_, err := c.CreateTaskSuites(context.Background(), []TaskSuite{s, s})
	require.ErrorIs(t, err, ErrValidation)
	assert.Equal(t, "toloka: 2 problem(s) in 2 item(s)"+
		"\n\ttask_suites[0].pool_id: POOL_TASK_TYPE_CONFLICT: pool mix uses smart mixing (mixer_config): upload its tasks with CreateTasks, not as task suites"+
		"\n\ttask_suites[1].pool_id: POOL_TASK_TYPE_CONFLICT: pool mix uses smart mixing (mixer_config): upload its tasks with CreateTasks, not as task suites",
		err.Error())
}

func TestEveryProblemAtOnceInOrder(t *testing.T) {
	t.Parallel()
	c, _ := newValidationClient(t)
	a := validTask()
	a.InputValues = Values{"imagis": 1, "priority": "x", "image": "ftp://x"}
	b := validTask()
	b.PoolID = "plain"
	err := c.ValidateTasks(context.Background(), []Task{validTask(), b, a})
	assertRulePaths(t, err, []string{
		"tasks[1].pool_id MIXER_CONFIG_REQUIRED",
		"tasks[2].input_values.image INVALID_URL_SYNTAX",
		"tasks[2].input_values.imagis VALUE_NOT_ALLOWED",
		"tasks[2].input_values.priority INTEGER_EXPECTED",
	})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []int{1, 2}, ve.Indexes())
	for _, fe := range ve.Errors {
		if fe.Code == CodeValueNotAllowed {
			assert.Contains(t, fe.Message, `no input field "imagis"`)
			assert.Contains(t, fe.Message, "image, link, meta")
		}
	}
}

func assertRulePaths(t *testing.T, err error, want []string) {
	t.Helper()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	var got []string
	for _, fe := range ve.Errors {
		got = append(got, fe.Path()+" "+fe.Code)
	}
	assert.Equal(t, want, got)
}

func TestRequestLevelLimits(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 600_000)
	tasks := []Task{validTask(), validTask()}
	tasks[0].InputValues["title"] = big
	tasks[1].InputValues["title"] = big
	env := fixtureEnv(t, false)
	assertRulePaths(t, checkErr(CheckTasks(tasks, env)), []string{"input_values OBJECT_SIZE_BYTES_GREATER_THAN_MAX"})

	out := strings.Repeat("y", 1_100_000)
	var known []Task
	for i := 0; i < 4; i++ {
		tk := validTask()
		tk.Overlap = InfiniteOverlap()
		tk.KnownSolutions = []KnownSolution{{OutputValues: Values{"color": "gray", "zz": out}}}
		known = append(known, tk)
	}
	errs := CheckTasks(known, CheckEnv{})
	require.Len(t, errs, 1)
	assert.Equal(t, "output_values", errs[0].Path())
	assert.Equal(t, CodeObjectSizeTooLarge, errs[0].Code)

	many := make([]Task, MaxSyncBatch+1)
	for i := range many {
		many[i] = validTask()
	}
	assert.Empty(t, CheckTasks(many, env), "the item cap is the sync calls' own check, not a rule of the items")
}

func TestCheckEnvWithoutPoolsSkipsPoolRules(t *testing.T) {
	t.Parallel()
	tk := validTask()
	tk.PoolID = "unknown"
	assert.Empty(t, CheckTasks([]Task{tk}, CheckEnv{}))
	errs := CheckTasks([]Task{tk}, CheckEnv{RequirePools: true})
	require.Len(t, errs, 1)
	assert.Equal(t, CodeEntityDoesNotExist, errs[0].Code)
}

func TestProjectWithoutTaskSpecSkipsSpecChecks(t *testing.T) {
	t.Parallel()
	c, mt := newValidationClient(t)
	tk := validTask()
	tk.InputValues["anything"] = 1
	require.NoError(t, c.ValidateTasks(context.Background(), []Task{tk}, WithProject(&Project{ID: "prj"})))
	assert.Zero(t, calls(mt, "GET", "/projects/prj"))
	assertRulePaths(t, c.ValidateTasks(context.Background(), []Task{tk}),
		[]string{"tasks[0].input_values.anything VALUE_NOT_ALLOWED"})
}

func TestValuesJSONCannotCarryAreNamed(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tk := validTask()
	tk.InputValues["score"] = nan
	tk.KnownSolutions = []KnownSolution{{OutputValues: Values{"color": "gray", "odd": make(chan int)}, CorrectnessWeight: &nan}}
	s := validSuite()
	s.IssuingOrderOverride = &nan
	s.Latitude, s.Longitude = Ptr(math.Inf(1)), Ptr(1.0)
	var got []string
	for _, fe := range append(CheckTasks([]Task{validTask(), tk}, CheckEnv{}), CheckTaskSuites([]TaskSuite{s}, CheckEnv{})...) {
		got = append(got, fe.Path()+" "+fe.Code)
		assert.NotEmpty(t, fe.Message)
	}
	assert.ElementsMatch(t, []string{
		"tasks[1].input_values.score INVALID_VALUE",
		"tasks[1].known_solutions[0].output_values.odd INVALID_VALUE",
		"tasks[1].known_solutions[0].correctness_weight INVALID_VALUE",
		"task_suites[0].issuing_order_override INVALID_VALUE",
		"task_suites[0].latitude INVALID_VALUE",
	}, got)
}

func TestSpecChecksNeverRefuseWhatTolokaMayAccept(t *testing.T) {
	t.Parallel()
	project := &Project{ID: "p", TaskSpec: TaskSpec{InputSpec: map[string]FieldSpec{
		"emoji":   {Type: FieldString, Required: true, MinLength: Ptr(2), MaxLength: Ptr(1)},
		"javaish": {Type: FieldString, Required: true, Pattern: `[a-z&&[^e]]+`},
		"code":    {Type: FieldString, Required: true, Pattern: `[A-Z]{3}`},
	}, OutputSpec: map[string]FieldSpec{}}}
	pool := &Pool{ID: "1", ProjectID: "p", MixerConfig: &MixerConfig{RealTasksCount: 1}}
	env := CheckEnv{Pools: map[string]*Pool{"1": pool}, Projects: map[string]*Project{"p": project}}
	task := Task{PoolID: "1", Overlap: FiniteOverlap(1), InputValues: Values{
		"emoji":   "😀",         // 1 code point, 2 UTF-16 units: both bounds hold under one count or the other
		"javaish": "e",         // Java's class intersection would refuse it; RE2 reads the class differently
		"code":    "id-ABC-42", // matches in part: a whole-value match is not documented
	}}
	assert.Empty(t, CheckTasks([]Task{task}, env))

	task.InputValues["code"] = "abc"
	errs := CheckTasks([]Task{task}, env)
	require.Len(t, errs, 1, "a value in which the pattern matches nowhere fails either way")
	assert.Equal(t, "tasks[0].input_values.code", errs[0].Path())
	assert.Equal(t, CodePatternMismatch, errs[0].Code)
}

func TestProjectDeclaringOneSideChecksOnlyThatSide(t *testing.T) {
	t.Parallel()
	project := &Project{ID: "p", TaskSpec: TaskSpec{OutputSpec: map[string]FieldSpec{"color": {Type: FieldString, Required: true}}}}
	pool := &Pool{ID: "1", ProjectID: "p", MixerConfig: &MixerConfig{RealTasksCount: 1, GoldenTasksCount: 1}}
	env := CheckEnv{Pools: map[string]*Pool{"1": pool}, Projects: map[string]*Project{"p": project}}
	task := Task{PoolID: "1", Overlap: InfiniteOverlap(), InputValues: Values{"anything": 1},
		KnownSolutions: []KnownSolution{{OutputValues: Values{"colour": "gray"}}}}
	var got []string
	for _, fe := range CheckTasks([]Task{task}, env) {
		got = append(got, fe.Path()+" "+fe.Code)
	}
	assert.Equal(t, []string{
		"tasks[0].known_solutions[0].output_values.color VALUE_REQUIRED",
		"tasks[0].known_solutions[0].output_values.colour VALUE_NOT_ALLOWED",
	}, got, "no input_spec: input values are not judged")
}
