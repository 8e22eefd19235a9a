package tolokatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gotoloka/toloka"
)

// Pace says how fast async operations run. Whatever the pace, the items of
// an operation are stored when it finishes, never before.
type Pace struct {
	polls  int
	manual bool
}

// FinishImmediately finishes every async operation before the create request
// answers: the answer already says SUCCESS or FAIL. This is the default.
func FinishImmediately() Pace { return Pace{} }

// FinishAfterPolls keeps an operation PENDING when created, RUNNING (with a
// growing progress) for its first n-1 reads with GET /operations/{id}, and
// finishes it on the n-th read.
func FinishAfterPolls(n int) Pace { return Pace{polls: n} }

// FinishManually keeps operations PENDING until AdvanceOperations or
// FinishOperations moves them.
func FinishManually() Pace { return Pace{manual: true} }

// SetPace changes the pace of operations created from now on.
func (s *Server) SetPace(p Pace) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.pace = p
}

// operation is an async create (or a pool opening) and, once finished, its log.
type operation struct {
	id        string
	typ       string
	status    string
	submitted toloka.Timestamp
	started   toloka.Timestamp
	finished  toloka.Timestamp
	progress  int
	polls     int
	pace      Pace
	params    map[string]any
	details   *toloka.OperationCounters

	work    *batch  // the judged items, kept for the log
	created applied // what finishing stored
	poolLog []logEntry
	done    bool
}

type logEntry struct {
	Type    string          `json:"type"`
	Success bool            `json:"success"`
	Input   json.RawMessage `json:"input"`
	Output  any             `json:"output"`
}

func (op *operation) view() toloka.Operation {
	v := toloka.Operation{ID: op.id, Type: op.typ, Status: op.status, Submitted: op.submitted, Started: op.started, Finished: op.finished}
	p := op.progress
	v.Progress = &p
	if op.params != nil {
		v.Parameters, _ = json.Marshal(op.params)
	}
	if op.details != nil {
		v.Details, _ = json.Marshal(op.details)
	}
	return v
}

// operationExists answers 409 OPERATION_ALREADY_EXISTS for a known id
// (toloka-api.md §2.4, §10.3).
func (s *Server) operationExists(id string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.ops[id]; ok {
		return &apiError{status: http.StatusConflict, code: toloka.CodeOperationAlreadyExists, message: "Operation with provided id already exists"}
	}
	return nil
}

// newOperationID draws a UUID from the server's seeded sequence.
func (st *state) newOperationID() string {
	st.opSeq++
	return uuidFromBits(splitmix(st.seed*0x2545f4914f6cdd1d+st.opSeq), splitmix(st.seed+st.opSeq<<20))
}

// submit registers an async create and answers with its operation (§2.4).
func (s *Server) submit(b *batch) (response, *apiError) {
	now := s.now()
	typ := toloka.OperationTaskBatchCreate
	if b.kind == kindSuite {
		typ = toloka.OperationTaskSuiteBatchCreate
	}
	valid := len(b.validIndexes())
	op := &operation{
		typ:       typ,
		status:    toloka.OperationPending,
		submitted: now,
		params:    map[string]any{"open_pool": b.opts.openPool, "allow_defaults": b.opts.allowDefaults, "skip_invalid_items": b.opts.skipInvalid},
		details:   &toloka.OperationCounters{TotalCount: int64(b.n), ValidCount: int64(valid), NotValidCount: int64(b.n - valid)},
		work:      b,
	}
	s.mu.Lock()
	if b.opts.operationID != "" {
		if _, dup := s.st.ops[b.opts.operationID]; dup {
			s.mu.Unlock()
			return response{}, &apiError{status: http.StatusConflict, code: toloka.CodeOperationAlreadyExists, message: "Operation with provided id already exists"}
		}
		op.id = b.opts.operationID
	} else {
		op.id = s.st.newOperationID()
	}
	op.pace = s.cfg.pace
	s.st.ops[op.id] = op
	s.st.opList = append(s.st.opList, op)
	immediate := !op.pace.manual && op.pace.polls <= 0
	s.mu.Unlock()
	if immediate {
		s.finish(op)
	}
	s.mu.Lock()
	v := op.view()
	s.mu.Unlock()
	return jsonResponse(s.cfg.asyncStatus, v)
}

// finish applies an operation's items and writes its log. It takes the lock
// itself, so callers must not hold it.
func (s *Server) finish(op *operation) {
	s.mu.Lock()
	if op.done {
		s.mu.Unlock()
		return
	}
	op.done = true // claims the work, so two readers cannot apply it twice
	s.mu.Unlock()

	b := op.work
	valid := b.validIndexes()
	ok := len(valid) == b.n || b.opts.skipInvalid
	var created applied
	if ok {
		created = s.apply(b, valid)
	} else {
		created = applied{rendered: make([][]byte, b.n), seqs: make([]uint64, b.n)}
	}
	now := s.now()

	s.mu.Lock()
	defer s.mu.Unlock()
	op.created = created
	success := 0
	for _, r := range created.rendered {
		if r != nil {
			success++
		}
	}
	op.details.SuccessCount = int64(success)
	op.details.FailedCount = int64(b.n - success)
	if op.started.IsZero() {
		op.started = now
	}
	op.finished, op.progress = now, 100
	op.status = toloka.OperationSuccess
	if !ok {
		op.status = toloka.OperationFail
	}
	if ok && b.opts.openPool {
		op.poolLog = s.openPoolsLogged(b)
	}
}

// openPoolsLogged opens the closed pools of an async batch and logs each
// attempt as a POOL_OPEN entry (toloka-api.md §6.2, §10.5). The caller holds
// the lock.
func (s *Server) openPoolsLogged(b *batch) []logEntry {
	seen := map[string]bool{}
	for i := 0; i < b.n; i++ {
		seen[b.poolID(i)] = true
	}
	var out []logEntry
	for _, id := range sortedPoolIDs(seen) {
		ps := s.st.pools[id]
		if ps == nil || ps.pool.Status != toloka.PoolClosed {
			continue
		}
		input, _ := json.Marshal(map[string]string{"pool_id": id})
		if len(ps.items[kindTask])+len(ps.items[kindSuite]) == 0 {
			out = append(out, logEntry{Type: "POOL_OPEN", Success: false, Input: input,
				Output: map[string]string{"code": toloka.CodeEmptyPool, "message": "Pool contains no tasks. Operation is not allowed"}})
			continue
		}
		s.st.setStatus(ps, toloka.PoolOpen)
		out = append(out, logEntry{Type: "POOL_OPEN", Success: true, Input: input, Output: map[string]string{"pool_id": id}})
	}

	return out
}

// step moves a paced operation forward after a read; it returns true when the
// operation should finish now. The caller holds the lock.
func (op *operation) step(now toloka.Timestamp) bool {
	if op.done || op.pace.manual {
		return false
	}
	op.polls++
	if op.polls >= op.pace.polls {
		return true
	}
	op.status = toloka.OperationRunning
	if op.started.IsZero() {
		op.started = now
	}
	op.progress = 100 * op.polls / op.pace.polls
	return false
}

// AdvanceOperations moves every unfinished operation one step: PENDING to
// RUNNING (progress 50), RUNNING to finished. It returns how many are still
// unfinished.
func (s *Server) AdvanceOperations() int {
	now := s.now()
	var finishing []*operation
	s.mu.Lock()
	left := 0
	for _, op := range s.st.opList {
		switch {
		case op.done:
		case op.status == toloka.OperationPending:
			op.status, op.started, op.progress = toloka.OperationRunning, now, 50
			left++
		default:
			finishing = append(finishing, op)
		}
	}
	s.mu.Unlock()
	for _, op := range finishing {
		s.finish(op)
	}
	return left
}

// FinishOperations finishes every unfinished operation at once.
func (s *Server) FinishOperations() {
	s.mu.Lock()
	var all []*operation
	for _, op := range s.st.opList {
		if !op.done {
			all = append(all, op)
		}
	}
	s.mu.Unlock()
	for _, op := range all {
		s.finish(op)
	}
}

func (s *Server) getOperation(id string) (response, *apiError) {
	now := s.now()
	s.mu.Lock()
	op, ok := s.st.ops[id]
	if !ok {
		s.mu.Unlock()
		return response{}, notFound("operation", id)
	}
	due := op.step(now)
	s.mu.Unlock()
	if due {
		s.finish(op)
	}
	s.mu.Lock()
	v := op.view()
	s.mu.Unlock()
	return jsonResponse(http.StatusOK, v)
}

// getOperationLog answers the log as a JSON array with each item's input as
// it was sent (toloka-api.md §6.2). An unfinished operation has an empty log.
func (s *Server) getOperationLog(id string) (response, *apiError) {
	s.mu.Lock()
	op, ok := s.st.ops[id]
	var created applied
	var poolLog []logEntry
	var prefixes map[string]string
	finished := ok && op.done && op.created.rendered != nil
	if finished {
		created, poolLog = op.created, op.poolLog
		prefixes = map[string]string{}
		for i := 0; op.work != nil && i < op.work.n; i++ {
			id := op.work.poolID(i)
			if ps := s.st.pools[id]; ps != nil {
				prefixes[id] = ps.prefix
			}
		}
	}
	s.mu.Unlock()
	if !ok {
		return response{}, notFound("operation", id)
	}
	if !finished || op.work == nil {
		return response{status: http.StatusOK, body: []byte("[]")}, nil
	}
	b := op.work
	createType, validateType, idKey := "TASK_CREATE", "TASK_VALIDATE", "task_id"
	if b.kind == kindSuite {
		createType, validateType, idKey = "TASK_SUITE_CREATE", "TASK_SUITE_VALIDATE", "task_suite_id"
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	first := true
	sep := func() {
		if !first {
			buf.WriteByte(',')
		}
		first = false
	}
	for i := 0; i < b.n; i++ {
		switch {
		case created.rendered[i] != nil:
			sep()
			fmt.Fprintf(&buf, `{"type":%q,"success":true,"input":`, createType)
			buf.Write(b.raws[i])
			fmt.Fprintf(&buf, `,"output":{%q:%q}}`, idKey, created.id(b, prefixes[b.poolID(i)], i))
		case len(b.errs[i]) > 0:
			sep()
			out, _ := json.Marshal(b.errs[i])
			fmt.Fprintf(&buf, `{"type":%q,"success":false,"input":`, validateType)
			buf.Write(b.raws[i])
			buf.WriteString(`,"output":`)
			buf.Write(out)
			buf.WriteByte('}')
		}
	}
	for _, e := range poolLog {
		sep()
		data, _ := json.Marshal(e)
		buf.Write(data)
	}
	buf.WriteByte(']')
	return response{status: http.StatusOK, body: buf.Bytes()}, nil
}

// getPool answers GET /pools/{id} (toloka-api.md §7.1).
func (s *Server) getPool(id string) (response, *apiError) {
	s.mu.Lock()
	ps, ok := s.st.pools[id]
	var p toloka.Pool
	if ok {
		p = ps.pool
	}
	s.mu.Unlock()
	if !ok {
		return response{}, notFound("pool", id)
	}
	return jsonResponse(http.StatusOK, p)
}

func (s *Server) getProject(id string) (response, *apiError) {
	s.mu.Lock()
	p, ok := s.st.projects[id]
	var cp toloka.Project
	if ok {
		cp = *p
	}
	s.mu.Unlock()
	if !ok {
		return response{}, notFound("project", id)
	}
	return jsonResponse(http.StatusOK, cp)
}

func (s *Server) getTraining(id string) (response, *apiError) {
	s.mu.Lock()
	t, ok := s.st.trainings[id]
	var cp Training
	if ok {
		cp = *t
	}
	s.mu.Unlock()
	if !ok {
		return response{}, notFound("training", id)
	}
	return jsonResponse(http.StatusOK, cp)
}

// openPool serves POST /pools/{id}/open: 204 when already open, 409 when
// archived or locked, otherwise a POOL.OPEN operation, which fails with
// EMPTY_POOL for a pool without items (toloka-api.md §1.1, §7.5).
func (s *Server) openPool(id string) (response, *apiError) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, ok := s.st.pools[id]
	if !ok {
		return response{}, notFound("pool", id)
	}
	switch ps.pool.Status {
	case toloka.PoolOpen:
		return response{status: http.StatusNoContent}, nil
	case toloka.PoolArchived, toloka.PoolLocked:
		return response{}, &apiError{status: http.StatusConflict, code: toloka.CodeInappropriateStatus,
			message: "This or related resource is in inappropriate status, operation is not allowed",
			payload: map[string][]string{"appropriate_statuses": {toloka.PoolClosed}}}
	}
	op := &operation{id: s.st.newOperationID(), typ: toloka.OperationPoolOpen, status: toloka.OperationSuccess,
		submitted: now, started: now, finished: now, progress: 100, done: true,
		params: map[string]any{"pool_id": id}}
	if len(ps.items[kindTask])+len(ps.items[kindSuite]) == 0 {
		op.status = toloka.OperationFail
	} else {
		s.st.setStatus(ps, toloka.PoolOpen)
	}
	s.st.ops[op.id] = op
	s.st.opList = append(s.st.opList, op)
	return jsonResponse(http.StatusAccepted, op.view())
}

// listOperations serves GET /operations (toloka-api.md §15.5).
func (s *Server) listOperations(q map[string][]string) (response, *apiError) {
	f, e := parseListQuery(q, []string{"id", "submitted", "finished"}, 500, s.cfg.maxListLimit)
	if e != nil {
		return response{}, e
	}
	typ, status := first(q, "type"), first(q, "status")
	bounds, e := parseTimeBounds(q, "submitted", "finished")
	if e != nil {
		return response{}, e
	}
	s.mu.Lock()
	var rows []listRow
	for _, op := range s.st.opList {
		if typ != "" && op.typ != typ || status != "" && op.status != status || !f.idIn(op.id) {
			continue
		}
		if !bounds.match("submitted", op.submitted.Time) || !bounds.match("finished", op.finished.Time) {
			continue
		}
		data, _ := json.Marshal(op.view())
		rows = append(rows, listRow{id: op.id, times: map[string]time.Time{"submitted": op.submitted.Time, "finished": op.finished.Time}, data: data})
	}
	s.mu.Unlock()
	return f.page(rows), nil
}

func first(q map[string][]string, key string) string {
	if v := q[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
