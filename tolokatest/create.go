package tolokatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"sync"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/internal/jsonscan"
)

// createParams are the query parameters of POST /tasks and /task-suites
// (toloka-api.md §2.1, §3.1).
type createParams struct {
	async         bool
	allowDefaults bool
	skipInvalid   bool
	openPool      bool
	operationID   string
}

func parseCreateParams(q url.Values) (createParams, *apiError) {
	var p createParams
	flags := []struct {
		name string
		dst  *bool
	}{{"async_mode", &p.async}, {"allow_defaults", &p.allowDefaults}, {"skip_invalid_items", &p.skipInvalid}, {"open_pool", &p.openPool}}
	for _, f := range flags {
		v := q.Get(f.name)
		if v == "" {
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return p, badParam(f.name, "BOOLEAN_EXPECTED", "Value must be true or false")
		}
		*f.dst = b
	}
	p.operationID = q.Get("operation_id")
	return p, nil
}

// batch is one create request, decoded and judged item by item.
type batch struct {
	kind        itemKind
	single      bool
	n           int
	opts        createParams
	raws        [][]byte
	bodyStr     string // the request body as one string, for the fast path
	bodyCap     int    // cap of the body the raws were cut from
	tasks       []toloka.Task
	spans       []taskSpans // raw field positions of tasks read by the fast path
	fast        []bool
	suites      []toloka.TaskSuite
	errs        []fieldMap       // per item; empty when the item is valid
	overlaps    []toloka.Overlap // effective overlap per valid item
	requestErrs fieldMap         // problems of the request as a whole
}

func (b *batch) poolID(i int) string {
	if b.kind == kindSuite {
		return b.suites[i].PoolID
	}
	return b.tasks[i].PoolID
}

func (b *batch) itemOverlap(i int) toloka.Overlap {
	if b.kind == kindSuite {
		return b.suites[i].Overlap
	}
	return b.tasks[i].Overlap
}

func (b *batch) addErr(i int, field, code, message string) {
	if b.errs[i] == nil {
		b.errs[i] = fieldMap{}
	}
	if _, dup := b.errs[i][field]; !dup {
		b.errs[i][field] = wireFieldError{Code: code, Message: message}
	}
}

// validIndexes returns the items without errors, ascending.
func (b *batch) validIndexes() []int {
	out := make([]int, 0, b.n)
	for i := 0; i < b.n; i++ {
		if len(b.errs[i]) == 0 {
			out = append(out, i)
		}
	}
	return out
}

// create serves POST /tasks and POST /task-suites.
func (s *Server) create(kind itemKind, q url.Values, body []byte) (response, *apiError) {
	opts, e := parseCreateParams(q)
	if e != nil {
		return response{}, e
	}
	raws, single, e := splitBody(body)
	if e != nil {
		return response{}, e
	}
	n := len(raws)
	if !opts.async && n > s.cfg.maxSyncItems {
		return response{}, tooManyItems(n, s.cfg.maxSyncItems, "synchronous")
	}
	if opts.async && s.cfg.maxAsyncItems > 0 && n > s.cfg.maxAsyncItems {
		return response{}, tooManyItems(n, s.cfg.maxAsyncItems, "asynchronous")
	}
	if opts.async && opts.operationID != "" {
		if !isUUID(opts.operationID) {
			return response{}, badParam("operation_id", "UUID_EXPECTED", "Value must be a UUID (RFC 4122)")
		}
		if e := s.operationExists(opts.operationID); e != nil {
			return response{}, e
		}
	}
	b := s.prepare(kind, body, raws, single, opts)
	if len(b.requestErrs) > 0 {
		return response{}, validationFailed(b.requestErrs) // refused as a whole: no quota spent
	}
	if e := s.limits.items(kind, n, s.clock.Now()); e != nil {
		return response{}, e
	}
	if opts.async {
		return s.submit(b)
	}
	return s.createSync(b)
}

func tooManyItems(n, max int, mode string) *apiError {
	return &apiError{
		status:  http.StatusRequestEntityTooLarge,
		code:    toloka.CodeEntityTooLarge,
		message: fmt.Sprintf("Payload Too Large: %d items in a %s request; at most %d are allowed", n, mode, max),
	}
}

// splitBody cuts a body that is one JSON object or an array of them into its
// items without copying. Items are parsed, and so fully checked, later.
func splitBody(body []byte) (raws [][]byte, single bool, e *apiError) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		return nil, false, &apiError{status: http.StatusBadRequest, code: toloka.CodeValidationError, message: "Request body is required: send a JSON object or an array of objects"}
	}
	switch body[0] {
	case '{':
		return [][]byte{body}, true, nil
	case '[':
	default:
		return nil, false, &apiError{status: http.StatusBadRequest, code: toloka.CodeValidationError, message: "Request body must be a JSON object or an array of objects"}
	}
	var structure jsonscan.Structure
	start := -1
	for i, c := range body {
		if !structure.Step(c) {
			continue
		}
		switch c {
		case '{', '[':
			if structure.Depth == 1 {
				start = i + 1
			}
		case '}', ']':
			if structure.Depth == 0 {
				if item := bytes.TrimSpace(body[start:i]); len(item) > 0 || len(raws) > 0 {
					raws = append(raws, item)
				}
				if i != len(body)-1 || c != ']' {
					return nil, false, malformed()
				}
				return raws, false, nil
			}
		case ',':
			if structure.Depth == 1 {
				raws = append(raws, bytes.TrimSpace(body[start:i]))
				start = i + 1
			}
		}
		if structure.Depth < 0 {
			return nil, false, malformed()
		}
	}
	return nil, false, malformed()
}

func malformed() *apiError {
	return &apiError{status: http.StatusBadRequest, code: toloka.CodeValidationError, message: "Malformed JSON in the request body"}
}

// prepare decodes every item and runs the shared checks (toloka.CheckTasks,
// toloka.CheckTaskSuites) with what this server knows about the pools and
// projects, then the checks only a server can make.
func (s *Server) prepare(kind itemKind, body []byte, raws [][]byte, single bool, opts createParams) *batch {
	n := len(raws)
	b := &batch{kind: kind, single: single, n: n, opts: opts, raws: raws, errs: make([]fieldMap, n), overlaps: make([]toloka.Overlap, n)}
	if kind == kindSuite {
		b.suites = make([]toloka.TaskSuite, n)
	} else {
		b.tasks = make([]toloka.Task, n)
		b.spans = make([]taskSpans, n)
		b.fast = make([]bool, n)
		b.bodyStr, b.bodyCap = string(body), cap(body)
	}
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b.decode(i)
		}
	})
	decoded := make([]int, 0, n)
	for i := 0; i < n; i++ {
		if b.errs[i] == nil {
			decoded = append(decoded, i)
		}
	}
	env := s.checkEnv(b, decoded)
	var fes []toloka.FieldError
	if kind == kindSuite {
		fes = toloka.CheckTaskSuites(pick(b.suites, decoded, n), env)
	} else {
		fes = toloka.CheckTasks(pick(b.tasks, decoded, n), env)
	}
	for _, fe := range fes {
		if fe.Index < 0 || fe.Index >= len(decoded) {
			if b.requestErrs == nil {
				b.requestErrs = fieldMap{}
			}
			if _, dup := b.requestErrs[fe.Field]; !dup {
				b.requestErrs[fe.Field] = wireFieldError{Code: fe.Code, Message: fe.Message, Params: fe.Params}
			}
			continue
		}
		i := decoded[fe.Index]
		if b.errs[i] == nil {
			b.errs[i] = fieldMap{}
		}
		if _, dup := b.errs[i][fe.Field]; !dup {
			b.errs[i][fe.Field] = wireFieldError{Code: fe.Code, Message: fe.Message, Params: fe.Params}
		}
	}
	for _, i := range decoded {
		s.serverChecks(b, i, env)
	}
	return b
}

// decode reads item i, by the fast path when it can.
func (b *batch) decode(i int) {
	raw := b.raws[i]
	var err error
	switch {
	case b.kind == kindSuite:
		err = json.Unmarshal(raw, &b.suites[i])
	case b.fastOK(raw, i):
		b.fast[i] = true
		return
	default:
		err = json.Unmarshal(raw, &b.tasks[i])
	}
	if err != nil {
		b.errs[i] = diagnose(b.kind, raw)
	}
}

func (b *batch) fastOK(raw []byte, i int) bool {
	off := b.bodyCap - cap(raw) // raw is a slice of the body, which reaches its end
	if off < 0 || off+len(raw) > len(b.bodyStr) {
		return false
	}
	return decodeTaskFast(raw, b.bodyStr[off:off+len(raw)], &b.tasks[i], &b.spans[i])
}

// parallel runs f over [0, n) in chunks on every CPU when n is large enough
// to pay for the goroutines.
func parallel(n int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < 2000 || workers < 2 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// pick returns the decoded items in order; when all decoded, items itself.
func pick[T any](items []T, decoded []int, n int) []T {
	if len(decoded) == n {
		return items
	}
	out := make([]T, len(decoded))
	for k, i := range decoded {
		out[k] = items[i]
	}
	return out
}

// checkEnv copies the pools and projects the batch targets, so the checks
// run without the server's lock.
func (s *Server) checkEnv(b *batch, decoded []int) toloka.CheckEnv {
	env := toloka.CheckEnv{AllowDefaults: b.opts.allowDefaults, Pools: map[string]*toloka.Pool{}, Projects: map[string]*toloka.Project{}}
	last := "\x00"
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range decoded {
		id := b.poolID(i)
		if id == last {
			continue
		}
		last = id
		if _, seen := env.Pools[id]; seen {
			continue
		}
		ps, ok := s.st.pools[id]
		if !ok {
			continue
		}
		p := ps.pool
		env.Pools[id] = &p
		if proj, ok := s.st.projects[p.ProjectID]; ok {
			if _, seen := env.Projects[p.ProjectID]; !seen {
				cp := *proj
				env.Projects[p.ProjectID] = &cp
			}
		}
	}
	return env
}

// serverChecks adds what only the server knows: whether the pool exists
// (toloka-api.md §14.3), baseline solutions hidden in suites (§3.3), and the
// effective overlap (§2.1, §4.3, §7.3).
func (s *Server) serverChecks(b *batch, i int, env toloka.CheckEnv) {
	poolID := b.poolID(i)
	pool := env.Pools[poolID]
	if poolID != "" && pool == nil {
		b.addErr(i, "pool_id", "ENTITY_DOES_NOT_EXIST", "Entity does not exist: there is no pool or training "+strconv.Quote(poolID))
	}
	if b.kind == kindSuite {
		for _, k := range suiteBaselines(b.raws[i]) {
			b.addErr(i, fmt.Sprintf("tasks.%d.baseline_solutions", k), toloka.CodeValueNotAllowed, "Baseline solutions are not allowed in task suites")
		}
	}
	o := b.itemOverlap(i)
	if !o.IsSet() && b.opts.allowDefaults && pool != nil {
		o = defaultOverlap(b.kind, pool)
	}
	if !o.IsSet() && pool != nil {
		if _, has := b.errs[i]["overlap"]; !has {
			what := "default_overlap_for_new_tasks"
			if b.kind == kindSuite {
				what = "default_overlap_for_new_task_suites"
			}
			msg := "Value must be present and not equal to null: set overlap, or allow_defaults=true"
			if b.opts.allowDefaults {
				msg = fmt.Sprintf("Value must be present: pool %s has no %s, so set overlap on the item", poolID, what)
			}
			b.addErr(i, "overlap", toloka.CodeValueRequired, msg)
		}
	}
	b.overlaps[i] = o
}

// defaultOverlap is the overlap allow_defaults gives an item without one: the
// pool's default; for a training, infinite (toloka-api.md §16.2, inferred).
func defaultOverlap(kind itemKind, p *toloka.Pool) toloka.Overlap {
	if p.Defaults != nil {
		d := p.Defaults.DefaultOverlapForNewTasks
		if kind == kindSuite {
			d = p.Defaults.DefaultOverlapForNewTaskSuites
		}
		if d != nil {
			return toloka.FiniteOverlap(*d)
		}
	}
	if p.Training && kind == kindTask {
		return toloka.InfiniteOverlap()
	}
	return toloka.Overlap{}
}

// suiteBaselines returns the positions of the suite's tasks that carry
// baseline_solutions, which the SDK's SuiteTask cannot even hold.
func suiteBaselines(raw []byte) []int {
	if !bytes.Contains(raw, []byte(`"baseline_solutions"`)) {
		return nil
	}
	var probe struct {
		Tasks []struct {
			Baseline json.RawMessage `json:"baseline_solutions"`
		} `json:"tasks"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return nil
	}
	var out []int
	for k, t := range probe.Tasks {
		if len(t.Baseline) > 0 && !bytes.Equal(t.Baseline, []byte("null")) {
			out = append(out, k)
		}
	}
	return out
}

// diagnose explains why an item does not decode, field by field, with the
// "…_EXPECTED" codes of toloka-api.md §8.3.
func diagnose(kind itemKind, raw []byte) fieldMap {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return fieldMap{"": {Code: "OBJECT_EXPECTED", Message: "Value must be an object"}}
	}
	out := fieldMap{}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		one, _ := json.Marshal(map[string]json.RawMessage{key: fields[key]})
		var err error
		if kind == kindSuite {
			err = json.Unmarshal(one, new(toloka.TaskSuite))
		} else {
			err = json.Unmarshal(one, new(toloka.Task))
		}
		if err != nil {
			out[key] = wireFieldError{Code: expectedCode(err), Message: "Invalid value: " + err.Error()}
		}
	}
	if len(out) == 0 {
		out[""] = wireFieldError{Code: "INVALID_VALUE", Message: "Item could not be read"}
	}
	return out
}

func expectedCode(err error) string {
	te, ok := err.(*json.UnmarshalTypeError)
	if !ok {
		return "INVALID_VALUE"
	}
	switch te.Type.Kind() {
	case reflect.String:
		return "STRING_EXPECTED"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "INTEGER_EXPECTED"
	case reflect.Float32, reflect.Float64:
		return "FLOAT_EXPECTED"
	case reflect.Bool:
		return "BOOLEAN_EXPECTED"
	case reflect.Slice, reflect.Array:
		return "ARRAY_EXPECTED"
	case reflect.Map, reflect.Struct:
		return "OBJECT_EXPECTED"
	}
	return "INVALID_VALUE"
}

// createSync answers a synchronous create (toloka-api.md §2.2, §2.3).
func (s *Server) createSync(b *batch) (response, *apiError) {
	if b.single {
		if len(b.errs[0]) > 0 {
			return response{}, validationFailed(b.errs[0])
		}
		created := s.apply(b, []int{0})
		s.openPools(b, created)
		return response{status: http.StatusCreated, body: created.rendered[0]}, nil
	}
	valid := b.validIndexes()
	invalid := b.n - len(valid)
	if invalid > 0 && (!b.opts.skipInvalid || len(valid) == 0 && s.cfg.rejectEmptySync) {
		// All-or-nothing: nothing is created, and the payload lists every
		// rejected item by index (§2.3, inferred).
		return response{}, validationFailed(b.errorsByIndex())
	}
	created := s.apply(b, valid)
	s.openPools(b, created)
	size := 64
	for _, i := range valid {
		size += len(created.rendered[i]) + 12
	}
	var buf bytes.Buffer
	buf.Grow(size)
	buf.WriteString(`{"items":{`)
	for k, i := range valid {
		if k > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('"')
		buf.WriteString(strconv.Itoa(i))
		buf.WriteString(`":`)
		buf.Write(created.rendered[i])
	}
	buf.WriteString(`},"validation_errors":`)
	errsJSON, err := json.Marshal(b.errorsByIndex())
	if err != nil {
		return response{}, &apiError{status: http.StatusInternalServerError, code: toloka.CodeInternalError, message: "Internal Error"}
	}
	buf.Write(errsJSON)
	buf.WriteByte('}')
	return response{status: http.StatusCreated, body: buf.Bytes()}, nil
}

func (b *batch) errorsByIndex() map[string]fieldMap {
	out := map[string]fieldMap{}
	for i, fm := range b.errs {
		if len(fm) > 0 {
			out[strconv.Itoa(i)] = fm
		}
	}
	return out
}

// openPools opens the closed pools that received items, for open_pool=true
// on a sync create (toloka-api.md §2.1, §7.5).
func (s *Server) openPools(b *batch, created applied) {
	if !b.opts.openPool {
		return
	}
	touched := map[string]bool{}
	for i := range created.rendered {
		if created.rendered[i] != nil {
			touched[b.poolID(i)] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range touched {
		if ps := s.st.pools[id]; ps != nil && ps.pool.Status == toloka.PoolClosed {
			s.st.setStatus(ps, toloka.PoolOpen)
		}
	}
}

func (st *state) setStatus(ps *poolState, status string) {
	ps.pool.Status = status
	if t, ok := st.trainings[ps.pool.ID]; ok {
		t.Status = status
	}
}

// isUUID reports whether s is a UUID in its canonical 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
