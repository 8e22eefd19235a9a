package toloka

import (
	"context"
	"encoding/json"
	"fmt"
)

// Per-request byte budgets for the values of all items together
// (toloka-api.md §2.5).
const (
	MaxInputValuesBytes  = 1 << 20 // 1,048,576
	MaxOutputValuesBytes = 4 << 20 // 4,194,304
)

// Field validation codes used by the SDK's own checks; the server uses the
// same ones (toloka-api.md §8.3).
const (
	CodeValueRequired         = "VALUE_REQUIRED"
	CodeValueNotAllowed       = "VALUE_NOT_ALLOWED"
	CodeValueLessThanMin      = "VALUE_LESS_THAN_MIN"
	CodeValueGreaterThanMax   = "VALUE_GREATER_THAN_MAX"
	CodeDuplicateValueInArray = "DUPLICATE_VALUE_IN_ARRAY"
	CodeObjectSizeTooLarge    = "OBJECT_SIZE_BYTES_GREATER_THAN_MAX"
	CodeEmptyObjectNotAllowed = "EMPTY_OBJECT_NOT_ALLOWED"
)

// SkipValidation sends the call without the SDK's checks; Toloka still
// validates on its side.
func SkipValidation() CallOption {
	return callOptionFunc(func(c *callConfig) { c.skipValidation = true })
}

// CheckEnv is what the pure checks know about the targets of a request. The
// client fills it from pool and project lookups; tolokatest fills it from its
// state, so the SDK and the fake apply the same rules.
type CheckEnv struct {
	// AllowDefaults is the call's CreateOptions.AllowDefaults.
	AllowDefaults bool
	// Pools by id; a pool missing here skips the pool-aware rules for its items.
	Pools map[string]*Pool
	// Projects by id; a project missing here skips the task_spec checks.
	Projects map[string]*Project
}

// CheckTasks reports every problem Toloka would refuse in tasks sent in one
// request, as FieldErrors indexed by position (toloka-api.md §4, §7).
func CheckTasks(tasks []Task, env CheckEnv) []FieldError {
	v := validator{collection: collectionTasks, env: env}
	for i := range tasks {
		v.task(i, &tasks[i])
	}
	v.budgets()
	return v.errs
}

// CheckTaskSuites reports every problem Toloka would refuse in suites sent in
// one request, as FieldErrors indexed by position (toloka-api.md §5, §7).
func CheckTaskSuites(suites []TaskSuite, env CheckEnv) []FieldError {
	v := validator{collection: collectionTaskSuites, env: env}
	for i := range suites {
		v.suite(i, &suites[i])
	}
	v.budgets()
	return v.errs
}

// validateItems runs the checks of every create call on items, which is a
// Task, a TaskSuite or a slice of either, and reports every problem at once.
func (c *Client) validateItems(_ context.Context, _ string, items any, cfg *callConfig) error {
	if cfg.skipValidation {
		return nil
	}
	env := CheckEnv{AllowDefaults: cfg.create.AllowDefaults}
	var errs []FieldError
	switch items := items.(type) {
	case Task:
		errs = CheckTasks([]Task{items}, env)
	case []Task:
		errs = CheckTasks(items, env)
	case TaskSuite:
		errs = CheckTaskSuites([]TaskSuite{items}, env)
	case []TaskSuite:
		errs = CheckTaskSuites(items, env)
	default:
		panic(fmt.Sprintf("toloka: validateItems called with %T", items))
	}
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: errs}
}

// validator collects field errors for one request.
type validator struct {
	collection  string
	env         CheckEnv
	inputBytes  int
	outputBytes int
	errs        []FieldError
}

func (v *validator) add(index int, field, code, format string, args ...any) {
	v.errs = append(v.errs, FieldError{
		Index: index, Field: field, Code: code, Message: fmt.Sprintf(format, args...), Collection: v.collection,
	})
}

func (v *validator) task(i int, t *Task) {
	v.required(i, "pool_id", t.PoolID)
	v.inputValues(i, "input_values", t.InputValues)
	v.overlap(i, t.Overlap, "a task")
	for k, ks := range t.KnownSolutions {
		v.outputValues(i, fmt.Sprintf("known_solutions.%d.output_values", k), ks.OutputValues)
		v.weight(i, fmt.Sprintf("known_solutions.%d.correctness_weight", k), ks.CorrectnessWeight)
	}
	for k, bs := range t.BaselineSolutions {
		v.outputValues(i, fmt.Sprintf("baseline_solutions.%d.output_values", k), bs.OutputValues)
		v.weight(i, fmt.Sprintf("baseline_solutions.%d.confidence_weight", k), bs.ConfidenceWeight)
	}
	v.unique(i, "reserved_for", t.ReservedFor)
	v.unique(i, "unavailable_for", t.UnavailableFor)
}

func (v *validator) suite(i int, s *TaskSuite) {
	v.required(i, "pool_id", s.PoolID)
	if len(s.Tasks) == 0 {
		v.add(i, "tasks", CodeValueRequired, "a task suite needs at least one task in Tasks")
	}
	for k := range s.Tasks {
		t := &s.Tasks[k]
		prefix := fmt.Sprintf("tasks.%d.", k)
		v.inputValues(i, prefix+"input_values", t.InputValues)
		for j, ks := range t.KnownSolutions {
			v.outputValues(i, fmt.Sprintf("%sknown_solutions.%d.output_values", prefix, j), ks.OutputValues)
			v.weight(i, fmt.Sprintf("%sknown_solutions.%d.correctness_weight", prefix, j), ks.CorrectnessWeight)
		}
	}
	v.overlap(i, s.Overlap, "a task suite")
	if o := s.IssuingOrderOverride; o != nil && (*o < -99999.99999 || *o > 99999.99999) {
		v.add(i, "issuing_order_override", CodeValueGreaterThanMax, "issuing_order_override is %v; use a value from -99999.99999 to 99999.99999", *o)
	}
	if (s.Latitude == nil) != (s.Longitude == nil) {
		v.add(i, "latitude", CodeValueRequired, "set Latitude and Longitude together, or neither")
	}
	v.unique(i, "reserved_for", s.ReservedFor)
	v.unique(i, "unavailable_for", s.UnavailableFor)
}

func (v *validator) required(i int, field, value string) {
	if value == "" {
		v.add(i, field, CodeValueRequired, "%s is required: set it to the id of the target pool", field)
	}
}

func (v *validator) inputValues(i int, field string, values Values) {
	if len(values) == 0 {
		v.add(i, field, CodeValueRequired, "%s is required and must not be empty: give a value for each input field of the project", field)
		return
	}
	v.inputBytes += jsonSize(values)
}

func (v *validator) outputValues(i int, field string, values Values) {
	if len(values) == 0 {
		v.add(i, field, CodeValueRequired, "%s must hold the answer: a value for each required output field", field)
		return
	}
	v.outputBytes += jsonSize(values)
}

func (v *validator) overlap(i int, o Overlap, what string) {
	n, finite := o.Count()
	switch {
	case !o.IsSet() && !v.env.AllowDefaults:
		v.add(i, "overlap", CodeValueRequired, "%s needs an Overlap (FiniteOverlap(n) or InfiniteOverlap()), or call with CreateOptions{AllowDefaults: true} to use the pool's default", what)
	case finite && n < MinOverlap:
		v.add(i, "overlap", CodeValueLessThanMin, "overlap is %d; use %d to %d, or InfiniteOverlap()", n, MinOverlap, MaxOverlap)
	case finite && n > MaxOverlap:
		v.add(i, "overlap", CodeValueGreaterThanMax, "overlap is %d; use %d to %d, or InfiniteOverlap()", n, MinOverlap, MaxOverlap)
	}
}

func (v *validator) weight(i int, field string, w *float64) {
	switch {
	case w == nil:
	case *w < 0:
		v.add(i, field, CodeValueLessThanMin, "%s is %v; use a weight from 0 to 1", field, *w)
	case *w > 1:
		v.add(i, field, CodeValueGreaterThanMax, "%s is %v; use a weight from 0 to 1", field, *w)
	}
}

func (v *validator) unique(i int, field string, ids []string) {
	seen := make(map[string]bool, len(ids))
	for k, id := range ids {
		if seen[id] {
			v.add(i, fmt.Sprintf("%s.%d", field, k), CodeDuplicateValueInArray, "%s lists Toloker %q twice; list each id once", field, id)
		}
		seen[id] = true
	}
}

// budgets checks the per-request byte limits of toloka-api.md §2.5.
func (v *validator) budgets() {
	if v.inputBytes > MaxInputValuesBytes {
		v.add(-1, "input_values", CodeObjectSizeTooLarge, "the input_values of this request take %d bytes; Toloka accepts at most %d per request: send fewer items per request", v.inputBytes, MaxInputValuesBytes)
	}
	if v.outputBytes > MaxOutputValuesBytes {
		v.add(-1, "output_values", CodeObjectSizeTooLarge, "the output_values of this request take %d bytes; Toloka accepts at most %d per request: send fewer items per request", v.outputBytes, MaxOutputValuesBytes)
	}
}

// jsonSize is the encoded size of values; what cannot be encoded counts as 0
// here and fails when the request is encoded.
func jsonSize(values Values) int {
	data, err := json.Marshal(values)
	if err != nil {
		return 0
	}
	return len(data)
}
