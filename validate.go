package toloka

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
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
	CodeEntityDoesNotExist    = "ENTITY_DOES_NOT_EXIST"
	CodeInvalidValue          = "INVALID_VALUE"
)

// SkipValidation sends the call without the SDK's checks and without their
// lookups; Toloka still validates on its side.
func SkipValidation() CallOption {
	return callOptionFunc(func(c *callConfig) { c.skipValidation = true })
}

// SkipLookups validates without reading pools or projects from Toloka: only
// the pools and projects given with WithPool and WithProject are used, and
// the pool and task_spec rules are skipped for items of other pools. Use it
// to trust the server, or for dry runs without network access.
func SkipLookups() CallOption {
	return callOptionFunc(func(c *callConfig) { c.skipLookups = true })
}

// WithoutLookups makes SkipLookups the default for every call of the client:
// validation then checks what the items themselves show, and the pool and
// task_spec rules are left to Toloka unless a call supplies WithPool or
// WithProject. Use it for keys that may not read pools, or for mocks that
// serve only the create endpoints.
func WithoutLookups() Option {
	return func(c *Client) error {
		c.skipLookups = true
		return nil
	}
}

// SkipSpecChecks leaves out the task_spec checks (and the project lookups
// they need) but keeps the field and pool rules. Use it when a pool
// validates against an older version of its project than GET /projects/{id}
// returns (toloka-api.md §14.1) and the SDK refuses items Toloka accepts.
func SkipSpecChecks() CallOption {
	return callOptionFunc(func(c *callConfig) { c.skipSpecChecks = true })
}

// WithPool supplies a pool's settings for validation, so the call does not
// look it up; it applies to the items whose PoolID is p.ID. Give it once per
// pool; a nil pool is ignored.
func WithPool(p *Pool) CallOption {
	return callOptionFunc(func(c *callConfig) {
		if p == nil {
			return
		}
		if c.pools == nil {
			c.pools = map[string]*Pool{}
		}
		c.pools[p.ID] = p
	})
}

// WithProject supplies a project (its task_spec) for validation, so the call
// does not look it up; it applies to the pools whose ProjectID is p.ID. A nil
// project is ignored.
func WithProject(p *Project) CallOption {
	return callOptionFunc(func(c *callConfig) {
		if p == nil {
			return
		}
		if c.projects == nil {
			c.projects = map[string]*Project{}
		}
		c.projects[p.ID] = p
	})
}

// CheckEnv is what the pure checks know about the targets of a request. The
// client fills it from pool and project lookups; tolokatest fills it from its
// state, so the SDK and the fake apply the same rules.
type CheckEnv struct {
	// AllowDefaults is the call's CreateOptions.AllowDefaults.
	AllowDefaults bool
	// Pools by id; a pool missing here skips the pool-aware rules for its
	// items, unless RequirePools is set.
	Pools map[string]*Pool
	// Projects by id, reached through Pool.ProjectID; a project missing here
	// skips the task_spec checks of its pools.
	Projects map[string]*Project
	// RequirePools reports items whose pool_id is not in Pools as
	// ENTITY_DOES_NOT_EXIST. Set it when Pools holds every pool there is (the
	// fake) or every pool the request names that exists (the client after
	// its lookups).
	RequirePools bool
}

// CheckTasks reports every problem Toloka would refuse in tasks sent in one
// request, as FieldErrors ordered by index and field (toloka-api.md §4, §7,
// §14). It does no I/O and is safe for concurrent use.
func CheckTasks(tasks []Task, env CheckEnv) []FieldError {
	v := newValidator(collectionTasks, env)
	for i := range tasks {
		v.task(i, &tasks[i])
	}
	return v.finish()
}

// CheckTaskSuites reports every problem Toloka would refuse in suites sent in
// one request, as FieldErrors ordered by index and field (toloka-api.md §5,
// §7, §14). It does no I/O and is safe for concurrent use.
func CheckTaskSuites(suites []TaskSuite, env CheckEnv) []FieldError {
	v := newValidator(collectionTaskSuites, env)
	for i := range suites {
		v.suite(i, &suites[i])
	}
	return v.finish()
}

// ValidateTasks checks tasks as one create request would, without sending
// them: a dry run, e.g. of a file before an upload. It looks up pools and
// projects like the create calls (cached) and takes the same options
// (CreateOptions for AllowDefaults, WithPool, WithProject, SkipLookups,
// SkipSpecChecks). It returns nil, a *ValidationError listing every problem,
// or the error of a failed lookup. The per-request byte budgets apply to the
// tasks as a whole; the sync cap of MaxSyncBatch items does not, since an
// async request has none.
func (c *Client) ValidateTasks(ctx context.Context, tasks []Task, opts ...CallOption) error {
	return c.validateItems(ctx, collectionTasks, tasks, newCallConfig(opts))
}

// ValidateTaskSuites checks task suites as one create request would, without
// sending them; see ValidateTasks.
func (c *Client) ValidateTaskSuites(ctx context.Context, suites []TaskSuite, opts ...CallOption) error {
	return c.validateItems(ctx, collectionTaskSuites, suites, newCallConfig(opts))
}

// validateItems runs the checks of every create call on items, which is a
// Task, a TaskSuite or a slice of either, and reports every problem at once.
// It looks up each distinct pool and its project once (through the client's
// cache) unless cfg says otherwise.
func (c *Client) validateItems(ctx context.Context, collection string, items any, cfg *callConfig) error {
	if cfg.skipValidation {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	switch item := items.(type) {
	case Task:
		items = []Task{item}
	case TaskSuite:
		items = []TaskSuite{item}
	}
	var errs []FieldError
	switch items := items.(type) {
	case []Task:
		env, err := c.checkEnv(ctx, collection, poolIDsOfTasks(items), cfg)
		if err != nil {
			return err
		}
		errs = CheckTasks(items, env)
	case []TaskSuite:
		env, err := c.checkEnv(ctx, collection, poolIDsOfSuites(items), cfg)
		if err != nil {
			return err
		}
		errs = CheckTaskSuites(items, env)
	default:
		panic(fmt.Sprintf("toloka: validateItems called with %T", items))
	}
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: errs}
}

// checkEnv gathers the pools and projects the items need: given ones first,
// then lookups, in the order the pools first appear.
func (c *Client) checkEnv(ctx context.Context, collection string, poolIDs []string, cfg *callConfig) (CheckEnv, error) {
	if c.skipLookups {
		cfg.skipLookups = true
	}
	env := CheckEnv{AllowDefaults: cfg.create.AllowDefaults, RequirePools: !cfg.skipLookups}
	if len(poolIDs) == 0 {
		return env, nil
	}
	env.Pools = make(map[string]*Pool, len(poolIDs))
	for _, id := range poolIDs {
		p := cfg.pools[id]
		if p == nil && !cfg.skipLookups {
			var err error
			if p, err = c.lookupPool(ctx, id); err != nil {
				return env, fmt.Errorf("toloka: validating %s: looking up pool %s: %w (pass WithPool to supply the pool, or SkipLookups() to leave the pool rules to Toloka)", collection, id, err)
			}
		}
		if p != nil {
			env.Pools[id] = p
		}
	}
	if cfg.skipSpecChecks {
		return env, nil
	}
	env.Projects = make(map[string]*Project, 1)
	for _, id := range poolIDs {
		p := env.Pools[id]
		if p == nil || p.ProjectID == "" {
			continue
		}
		if _, done := env.Projects[p.ProjectID]; done {
			continue
		}
		pr := cfg.projects[p.ProjectID]
		if pr == nil && !cfg.skipLookups {
			var err error
			if pr, err = c.lookupProject(ctx, p.ProjectID); err != nil {
				return env, fmt.Errorf("toloka: validating %s: looking up project %s of pool %s: %w (pass WithProject to supply it, or SkipSpecChecks() to leave the task_spec checks to Toloka)", collection, p.ProjectID, id, err)
			}
		}
		if pr != nil {
			env.Projects[p.ProjectID] = pr
		}
	}
	return env, nil
}

// idSet collects distinct ids in first-seen order; a batch usually targets
// one pool, so a short linear scan beats a map until there are many.
type idSet struct {
	ids  []string
	seen map[string]bool
}

func (s *idSet) add(id string) {
	if id == "" {
		return
	}
	if s.seen == nil {
		for _, have := range s.ids {
			if have == id {
				return
			}
		}
		s.ids = append(s.ids, id)
		if len(s.ids) > 8 {
			s.seen = make(map[string]bool, 2*len(s.ids))
			for _, have := range s.ids {
				s.seen[have] = true
			}
		}
		return
	}
	if !s.seen[id] {
		s.seen[id] = true
		s.ids = append(s.ids, id)
	}
}

func poolIDsOfTasks(tasks []Task) []string {
	var s idSet
	for i := range tasks {
		s.add(tasks[i].PoolID)
	}
	return s.ids
}

func poolIDsOfSuites(suites []TaskSuite) []string {
	var s idSet
	for i := range suites {
		s.add(suites[i].PoolID)
	}
	return s.ids
}

// target is what the checks know about one pool_id of the request.
type target struct {
	pool    *Pool
	project *Project
	spec    *compiledSpec // nil: no task_spec checks
}

// pathSeg is one segment of a field path: a name, or an index when name is "".
type pathSeg struct {
	name string
	idx  int
}

// validator collects field errors for one request. Paths are kept as a stack
// of segments and joined only when an error is reported, so valid items cost
// no allocations for paths.
type validator struct {
	collection  string
	env         CheckEnv
	inputBytes  int
	outputBytes int
	errs        []FieldError
	path        []pathSeg

	targets  map[string]*target
	specs    map[string]*compiledSpec
	lastID   string
	lastTgt  *target
	noTarget target
}

func newValidator(collection string, env CheckEnv) *validator {
	return &validator{collection: collection, env: env, path: make([]pathSeg, 0, 8)}
}

func (v *validator) push(name string) { v.path = append(v.path, pathSeg{name: name}) }
func (v *validator) pushIdx(i int)    { v.path = append(v.path, pathSeg{idx: i}) }
func (v *validator) pop(n int)        { v.path = v.path[:len(v.path)-n] }

// at joins the current path and leaf ("" for none) into a field path.
func (v *validator) at(leaf string) string {
	var b strings.Builder
	for _, s := range v.path {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		if s.name != "" {
			b.WriteString(s.name)
		} else {
			b.WriteString(strconv.Itoa(s.idx))
		}
	}
	if leaf != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(leaf)
	}
	return b.String()
}

// add reports a problem with field leaf under the current path.
func (v *validator) add(index int, leaf, code, format string, args ...any) {
	v.addP(index, leaf, code, nil, format, args...)
}

func (v *validator) addP(index int, leaf, code string, params []any, format string, args ...any) {
	v.errs = append(v.errs, FieldError{
		Index: index, Field: v.at(leaf), Code: code, Message: fmt.Sprintf(format, args...), Params: params, Collection: v.collection,
	})
}

func (v *validator) finish() []FieldError {
	v.path = v.path[:0]
	v.budgets()
	sortFieldErrors(v.errs)
	return v.errs
}

// target returns what is known about pool id, resolving and compiling once
// per request.
func (v *validator) target(id string) *target {
	if id == v.lastID && v.lastTgt != nil {
		return v.lastTgt
	}
	t, ok := v.targets[id]
	if !ok {
		t = &target{pool: v.env.Pools[id]}
		if t.pool != nil && t.pool.ProjectID != "" {
			t.project = v.env.Projects[t.pool.ProjectID]
			// A project without any task_spec (e.g. one built by hand for
			// WithProject) says nothing about fields: skip rather than call
			// every field unknown.
			if t.project != nil && (t.project.TaskSpec.InputSpec != nil || t.project.TaskSpec.OutputSpec != nil) {
				if v.specs == nil {
					v.specs = map[string]*compiledSpec{}
				}
				if t.spec, ok = v.specs[t.project.ID]; !ok {
					t.spec = compileSpec(t.project)
					v.specs[t.project.ID] = t.spec
				}
			}
		}
		if v.targets == nil {
			v.targets = map[string]*target{}
		}
		v.targets[id] = t
	}
	v.lastID, v.lastTgt = id, t
	return t
}

// taskKind classifies a task by its content (toloka-api.md §4.4).
type taskKind int

const (
	kindGeneral taskKind = iota
	kindControl
	kindTraining
)

func kindOf(known int, hint string) taskKind {
	switch {
	case known == 0:
		return kindGeneral
	case hint == "":
		return kindControl
	default:
		return kindTraining
	}
}

func (v *validator) task(i int, t *Task) {
	v.path = v.path[:0]
	tg := &v.noTarget
	if t.PoolID == "" {
		v.add(i, "pool_id", CodeValueRequired, "pool_id is required: set PoolID to the id of the target pool")
	} else {
		tg = v.target(t.PoolID)
	}
	v.push("input_values")
	v.inputValues(i, t.InputValues, tg)
	v.pop(1)
	v.overlap(i, t.Overlap, "a task")
	for k := range t.KnownSolutions {
		ks := &t.KnownSolutions[k]
		v.push("known_solutions")
		v.pushIdx(k)
		v.outputValues(i, ks.OutputValues, tg, true)
		v.weight(i, "correctness_weight", ks.CorrectnessWeight)
		v.pop(2)
	}
	for k := range t.BaselineSolutions {
		bs := &t.BaselineSolutions[k]
		v.push("baseline_solutions")
		v.pushIdx(k)
		v.outputValues(i, bs.OutputValues, tg, false)
		v.weight(i, "confidence_weight", bs.ConfidenceWeight)
		v.pop(2)
	}
	v.unique(i, "reserved_for", t.ReservedFor)
	v.unique(i, "unavailable_for", t.UnavailableFor)
	if t.PoolID != "" {
		v.taskPoolRules(i, t, tg)
	}
}

func (v *validator) suite(i int, s *TaskSuite) {
	v.path = v.path[:0]
	tg := &v.noTarget
	if s.PoolID == "" {
		v.add(i, "pool_id", CodeValueRequired, "pool_id is required: set PoolID to the id of the target pool")
	} else {
		tg = v.target(s.PoolID)
	}
	if len(s.Tasks) == 0 {
		v.add(i, "tasks", CodeValueRequired, "a task suite needs at least one task in Tasks")
	}
	for k := range s.Tasks {
		t := &s.Tasks[k]
		v.push("tasks")
		v.pushIdx(k)
		v.push("input_values")
		v.inputValues(i, t.InputValues, tg)
		v.pop(1)
		for j := range t.KnownSolutions {
			ks := &t.KnownSolutions[j]
			v.push("known_solutions")
			v.pushIdx(j)
			v.outputValues(i, ks.OutputValues, tg, true)
			v.weight(i, "correctness_weight", ks.CorrectnessWeight)
			v.pop(2)
		}
		v.pop(2)
	}
	v.overlap(i, s.Overlap, "a task suite")
	if o := s.IssuingOrderOverride; o != nil {
		switch {
		case math.IsNaN(*o):
			v.add(i, "issuing_order_override", CodeInvalidValue, "issuing_order_override is NaN; use a value from -99999.99999 to 99999.99999")
		case *o < -99999.99999:
			v.addP(i, "issuing_order_override", CodeValueLessThanMin, []any{-99999.99999}, "issuing_order_override is %v; use a value from -99999.99999 to 99999.99999", *o)
		case *o > 99999.99999:
			v.addP(i, "issuing_order_override", CodeValueGreaterThanMax, []any{99999.99999}, "issuing_order_override is %v; use a value from -99999.99999 to 99999.99999", *o)
		}
	}
	switch {
	case s.Latitude != nil && s.Longitude == nil:
		v.add(i, "longitude", CodeValueRequired, "Latitude is set without Longitude: set both, or neither")
	case s.Latitude == nil && s.Longitude != nil:
		v.add(i, "latitude", CodeValueRequired, "Longitude is set without Latitude: set both, or neither")
	}
	v.finite(i, "latitude", s.Latitude)
	v.finite(i, "longitude", s.Longitude)
	v.unique(i, "reserved_for", s.ReservedFor)
	v.unique(i, "unavailable_for", s.UnavailableFor)
	if s.PoolID != "" {
		v.suitePoolRules(i, s, tg)
	}
}

func (v *validator) inputValues(i int, values Values, tg *target) {
	if len(values) == 0 {
		v.add(i, "", CodeValueRequired, "input_values is required and must not be empty: give a value for each input field of the project")
		return
	}
	v.inputBytes += v.valuesSize(i, values)
	if tg.spec != nil {
		if tg.spec.input != nil {
			v.checkValues(i, values, tg.spec.input, true)
		}
	}
}

func (v *validator) outputValues(i int, values Values, tg *target, known bool) {
	if len(values) == 0 {
		v.add(i, "output_values", CodeValueRequired, "output_values must hold the answer: a value for each required output field")
		return
	}
	v.push("output_values")
	v.outputBytes += v.valuesSize(i, values)
	defer v.pop(1)
	if tg.spec != nil {
		// Whether a baseline solution needs every required output field is
		// undocumented (toloka-api.md §14.4), so only known solutions are
		// held to it.
		if tg.spec.output != nil {
			v.checkValues(i, values, tg.spec.output, known)
		}
	}
}

// valuesSize is the encoded size of values, reporting a value JSON cannot
// carry (which would otherwise fail the whole request without naming it).
func (v *validator) valuesSize(i int, values Values) int {
	n := valuesSize(values)
	if n >= 0 {
		return n
	}
	key := unencodableKey(values)
	v.add(i, key, CodeInvalidValue, "%s holds %v, which JSON cannot carry (NaN, ±Inf or a Go value with no JSON form): use a finite number, a string, a bool, a slice or a map", v.at(key), values[key])
	return 0
}

func (v *validator) overlap(i int, o Overlap, what string) {
	n, finite := o.Count()
	switch {
	case !o.IsSet() && !v.env.AllowDefaults:
		v.add(i, "overlap", CodeValueRequired, "%s needs an Overlap (FiniteOverlap(n) or InfiniteOverlap()), or call with CreateOptions{AllowDefaults: true} to use the pool's default", what)
	case finite && n < MinOverlap:
		v.addP(i, "overlap", CodeValueLessThanMin, []any{MinOverlap}, "overlap is %d; use %d to %d, or InfiniteOverlap()", n, MinOverlap, MaxOverlap)
	case finite && n > MaxOverlap:
		v.addP(i, "overlap", CodeValueGreaterThanMax, []any{MaxOverlap}, "overlap is %d; use %d to %d, or InfiniteOverlap()", n, MinOverlap, MaxOverlap)
	}
}

func (v *validator) weight(i int, field string, w *float64) {
	switch {
	case w == nil:
	case math.IsNaN(*w) || math.IsInf(*w, 0):
		v.add(i, field, CodeInvalidValue, "%s is %v; use a weight from 0 to 1", field, *w)
	case *w < 0:
		v.addP(i, field, CodeValueLessThanMin, []any{0}, "%s is %v; use a weight from 0 to 1", field, *w)
	case *w > 1:
		v.addP(i, field, CodeValueGreaterThanMax, []any{1}, "%s is %v; use a weight from 0 to 1", field, *w)
	}
}

// finite reports a NaN or infinite coordinate, which JSON cannot carry.
func (v *validator) finite(i int, field string, f *float64) {
	if f != nil && (math.IsNaN(*f) || math.IsInf(*f, 0)) {
		v.add(i, field, CodeInvalidValue, "%s is %v; use a finite number of degrees", field, *f)
	}
}

func (v *validator) unique(i int, field string, ids []string) {
	if len(ids) < 2 {
		return
	}
	seen := make(map[string]bool, len(ids))
	for k, id := range ids {
		if seen[id] {
			v.push(field)
			v.add(i, strconv.Itoa(k), CodeDuplicateValueInArray, "%s lists Toloker %q twice; list each id once", field, id)
			v.pop(1)
		}
		seen[id] = true
	}
}

// budgets checks the per-request byte limits of toloka-api.md §2.5.
func (v *validator) budgets() {
	if v.inputBytes > MaxInputValuesBytes {
		v.addP(-1, "input_values", CodeObjectSizeTooLarge, []any{MaxInputValuesBytes}, "the input_values of this request take %d bytes; Toloka accepts at most %d per request: send fewer items per request", v.inputBytes, MaxInputValuesBytes)
	}
	if v.outputBytes > MaxOutputValuesBytes {
		v.addP(-1, "output_values", CodeObjectSizeTooLarge, []any{MaxOutputValuesBytes}, "the output_values of this request take %d bytes; Toloka accepts at most %d per request: send fewer items per request", v.outputBytes, MaxOutputValuesBytes)
	}
}

func isArchived(p *Pool) bool { return strings.EqualFold(p.Status, PoolArchived) }

// isTrainingPool covers trainings (GET /trainings/{id}) and regular pools
// marked as training (toloka-api.md §7.1, §16).
func isTrainingPool(p *Pool) bool { return p.Training || strings.EqualFold(p.Type, "TRAINING") }

// isZeroPrice is true only when the pool states a reward of 0: such pools
// take only control and training tasks (toloka-api.md §7.1, §7.6).
func isZeroPrice(p *Pool) bool {
	return p.RewardPerAssignment != nil && *p.RewardPerAssignment == 0 && !isTrainingPool(p)
}

// missingDefault reports whether AllowDefaults cannot give an item its
// overlap: the pool lacks the default for the item's kind (toloka-api.md
// §7.3). Trainings have no defaults block at all and get infinite overlap
// (§16.2), so they are not held to this.
func missingDefault(p *Pool, tasks bool) bool {
	if p.Defaults == nil {
		return !isTrainingPool(p)
	}
	if tasks {
		return p.Defaults.DefaultOverlapForNewTasks == nil
	}
	return p.Defaults.DefaultOverlapForNewTaskSuites == nil
}

func (v *validator) poolMissing(i int, id string) {
	if v.env.RequirePools {
		v.add(i, "pool_id", CodeEntityDoesNotExist, "pool %s does not exist (neither GET /pools/%s nor GET /trainings/%s found it), or this credential cannot see it: check PoolID", id, id, id)
	}
}

// taskPoolRules are the rules of toloka-api.md §7 and §16 for a task.
func (v *validator) taskPoolRules(i int, t *Task, tg *target) {
	p := tg.pool
	if p == nil {
		v.poolMissing(i, t.PoolID)
		return
	}
	if isArchived(p) {
		v.add(i, "pool_id", CodePoolInappropriateStatus, "pool %s is archived and takes no new tasks: upload to an open or closed pool", p.ID)
	}
	training := isTrainingPool(p)
	kind := kindOf(len(t.KnownSolutions), t.MessageOnUnknownSolution)
	m := p.MixerConfig
	if m == nil && !training {
		v.add(i, "pool_id", CodeMixerConfigRequired, "pool %s does not use smart mixing (it has no mixer_config), so Toloka cannot group single tasks into pages: put the tasks into task suites and upload them with CreateTaskSuites, or upload to a pool with smart mixing", p.ID)
	}
	if m != nil {
		switch {
		case kind == kindGeneral && m.RealTasksCount == 0 && !training:
			v.add(i, "pool_id", CodePoolTaskTypeConflict, "pool %s issues no general tasks (mixer_config.real_tasks_count is 0), so this task without KnownSolutions would never reach a Toloker: give it KnownSolutions, or set real_tasks_count on the pool", p.ID)
		case kind == kindControl && !m.IssuesControlTasks():
			v.add(i, "known_solutions", CodePoolTaskTypeConflict, "pool %s issues no control tasks (mixer_config.golden_tasks_count is 0 and there is no golden_task_distribution_function), so this control task would never reach a Toloker: set golden_tasks_count on the pool, or send the task without KnownSolutions", p.ID)
		case kind == kindTraining && !m.IssuesTrainingTasks():
			v.add(i, "message_on_unknown_solution", CodePoolTaskTypeConflict, "pool %s issues no training tasks (mixer_config.training_tasks_count is 0 and there is no training_task_distribution_function), so this training task would never reach a Toloker: set training_tasks_count on the pool, or send the task without MessageOnUnknownSolution as a control task", p.ID)
		}
	}
	if training {
		v.trainingOnly(i, p, len(t.KnownSolutions), t.MessageOnUnknownSolution)
	}
	if kind == kindGeneral && isZeroPrice(p) {
		v.add(i, "known_solutions", CodePoolTaskTypeConflict, "pool %s pays nothing (reward_per_assignment is 0), and such pools take only control and training tasks: give the task KnownSolutions, or set a reward on the pool", p.ID)
	}
	if !t.Overlap.IsSet() && v.env.AllowDefaults && missingDefault(p, true) {
		v.add(i, "overlap", CodeValueRequired, "pool %s has no defaults.default_overlap_for_new_tasks, so AllowDefaults gives this task no overlap: set Overlap on the task (FiniteOverlap(n) or InfiniteOverlap()), or set the default on the pool", p.ID)
	}
}

// suitePoolRules are the rules of toloka-api.md §7 for a task suite.
func (v *validator) suitePoolRules(i int, s *TaskSuite, tg *target) {
	p := tg.pool
	if p == nil {
		v.poolMissing(i, s.PoolID)
		return
	}
	if isArchived(p) {
		v.add(i, "pool_id", CodePoolInappropriateStatus, "pool %s is archived and takes no new task suites: upload to an open or closed pool", p.ID)
	}
	if p.MixerConfig != nil {
		v.add(i, "pool_id", CodePoolTaskTypeConflict, "pool %s uses smart mixing (mixer_config): upload its tasks with CreateTasks, not as task suites", p.ID)
	}
	training, zero := isTrainingPool(p), isZeroPrice(p)
	if training || zero {
		for k := range s.Tasks {
			t := &s.Tasks[k]
			v.push("tasks")
			v.pushIdx(k)
			if training {
				v.trainingOnly(i, p, len(t.KnownSolutions), t.MessageOnUnknownSolution)
			} else if len(t.KnownSolutions) == 0 {
				v.add(i, "known_solutions", CodePoolTaskTypeConflict, "pool %s pays nothing (reward_per_assignment is 0), and such pools take only control and training tasks: give this task KnownSolutions, or set a reward on the pool", p.ID)
			}
			v.pop(2)
		}
	}
	if !s.Overlap.IsSet() && v.env.AllowDefaults && missingDefault(p, false) {
		v.add(i, "overlap", CodeValueRequired, "pool %s has no defaults.default_overlap_for_new_task_suites, so AllowDefaults gives this suite no overlap: set Overlap on the suite (FiniteOverlap(n) or InfiniteOverlap())", p.ID)
	}
	if pr := tg.project; pr != nil && strings.EqualFold(pr.AssignmentsIssuingType, "MAP_SELECTOR") && s.Latitude == nil && s.Longitude == nil {
		v.add(i, "latitude", CodeValueRequired, "project %s of pool %s issues tasks on a map (assignments_issuing_type MAP_SELECTOR): set Latitude and Longitude on every task suite", pr.ID, p.ID)
	}
}

// trainingOnly refuses a task that is not a training task for a training
// pool, which holds only training tasks (toloka-api.md §16.2).
func (v *validator) trainingOnly(i int, p *Pool, known int, hint string) {
	switch {
	case known == 0:
		v.add(i, "known_solutions", CodePoolIsTraining, "pool %s is a training pool, which holds only training tasks: give the task KnownSolutions and a hint in MessageOnUnknownSolution", p.ID)
	case hint == "":
		v.add(i, "message_on_unknown_solution", CodePoolIsTraining, "pool %s is a training pool, which holds only training tasks: give the task a hint in MessageOnUnknownSolution", p.ID)
	}
}
