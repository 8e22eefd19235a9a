package tolokatest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"

	"github.com/gotoloka/toloka"
)

// state is everything a server stores. Server.mu guards it.
type state struct {
	seed      uint64
	projects  map[string]*toloka.Project
	pools     map[string]*poolState
	poolList  []*poolState
	trainings map[string]*Training
	items     [2]itemStore
	ops       map[string]*operation
	opList    []*operation
	opSeq     uint64
	nextID    int64
}

// poolState is a pool (or a training, which shares the pools' id space) and
// the sequence numbers of its items in creation order.
type poolState struct {
	index  uint32
	pool   toloka.Pool
	prefix string
	items  [2][]uint64
}

func newState(seed uint64) *state {
	return &state{
		seed:      seed,
		projects:  map[string]*toloka.Project{},
		pools:     map[string]*poolState{},
		trainings: map[string]*Training{},
		ops:       map[string]*operation{},
		nextID:    1000,
	}
}

// Training is a training pool (toloka-api.md §16): it takes training tasks
// through POST /tasks like a smart-mixing pool but has no mixer_config and no
// defaults. GET /trainings/{id} returns it; it also appears under
// GET /pools/{id} with "training": true, as trainings and pools share ids.
type Training struct {
	ID                            string           `json:"id"`
	ProjectID                     string           `json:"project_id"`
	Status                        string           `json:"status"`
	PrivateName                   string           `json:"private_name,omitempty"`
	TrainingTasksInTaskSuiteCount int              `json:"training_tasks_in_task_suite_count"`
	TaskSuitesRequiredToPass      int              `json:"task_suites_required_to_pass,omitempty"`
	MixTasksInCreationOrder       *bool            `json:"mix_tasks_in_creation_order,omitempty"`
	ShuffleTasksInTaskSuite       *bool            `json:"shuffle_tasks_in_task_suite,omitempty"`
	RetryTrainingAfterDays        *int64           `json:"retry_training_after_days,omitempty"`
	AssignmentMaxDurationSeconds  int64            `json:"assignment_max_duration_seconds,omitempty"`
	Created                       toloka.Timestamp `json:"created,omitzero"`
}

func (st *state) newID() string {
	st.nextID++
	return strconv.FormatInt(st.nextID, 10)
}

// AddProject stores a project; an empty ID gets a fresh numeric one and an
// empty Status becomes ACTIVE. It returns the stored project.
func (s *Server) AddProject(p toloka.Project) (toloka.Project, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == "" {
		p.ID = s.st.newID()
	}
	if p.Status == "" {
		p.Status = "ACTIVE"
	}
	if p.Created.IsZero() {
		p.Created = s.now()
	}
	cp := p
	s.st.projects[p.ID] = &cp
	return p, nil
}

// AddPool stores a pool. Its project must exist. An empty ID gets a fresh
// numeric one, an empty Status becomes CLOSED (new pools start closed), and
// missing defaults become default_overlap_for_new_task_suites = 1, as
// toloka-kit does (toloka-api.md §7.3). It returns the stored pool.
func (s *Server) AddPool(p toloka.Pool) (toloka.Pool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.projects[p.ProjectID]; !ok {
		return toloka.Pool{}, fmt.Errorf("tolokatest: pool %q: project %q does not exist; add it with AddProject first", p.ID, p.ProjectID)
	}
	if p.ID == "" {
		p.ID = s.st.newID()
	}
	if _, dup := s.st.pools[p.ID]; dup {
		return toloka.Pool{}, fmt.Errorf("tolokatest: pool or training %q already exists", p.ID)
	}
	if p.Status == "" {
		p.Status = toloka.PoolClosed
	}
	if p.Defaults == nil && !p.Training {
		p.Defaults = &toloka.PoolDefaults{DefaultOverlapForNewTaskSuites: toloka.Ptr(int64(1))}
	}
	if p.Type == "" {
		p.Type = "REGULAR"
		if p.Training {
			p.Type = "TRAINING"
		}
	}
	if p.Created.IsZero() {
		p.Created = s.now()
	}
	s.st.addPool(p)
	return p, nil
}

func (st *state) addPool(p toloka.Pool) *poolState {
	ps := &poolState{index: uint32(len(st.poolList)), pool: p, prefix: poolPrefix(p.ID)}
	st.pools[p.ID] = ps
	st.poolList = append(st.poolList, ps)
	return ps
}

// AddTraining stores a training pool. Its project must exist; an empty ID
// gets a fresh one and an empty Status becomes CLOSED.
func (s *Server) AddTraining(t Training) (Training, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.projects[t.ProjectID]; !ok {
		return Training{}, fmt.Errorf("tolokatest: training %q: project %q does not exist; add it with AddProject first", t.ID, t.ProjectID)
	}
	if t.ID == "" {
		t.ID = s.st.newID()
	}
	if _, dup := s.st.pools[t.ID]; dup {
		return Training{}, fmt.Errorf("tolokatest: pool or training %q already exists", t.ID)
	}
	if t.Status == "" {
		t.Status = toloka.PoolClosed
	}
	if t.Created.IsZero() {
		t.Created = s.now()
	}
	cp := t
	s.st.trainings[t.ID] = &cp
	s.st.addPool(toloka.Pool{ID: t.ID, ProjectID: t.ProjectID, Status: t.Status, Training: true, Type: "TRAINING", PrivateName: t.PrivateName, Created: t.Created})
	return t, nil
}

// SetPoolStatus changes a pool's status, e.g. to toloka.PoolArchived.
func (s *Server) SetPoolStatus(poolID, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, ok := s.st.pools[poolID]
	if !ok {
		return fmt.Errorf("tolokatest: pool %q does not exist", poolID)
	}
	ps.pool.Status = status
	if t, ok := s.st.trainings[poolID]; ok {
		t.Status = status
	}
	return nil
}

// Pool returns a copy of a stored pool.
func (s *Server) Pool(id string) (toloka.Pool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, ok := s.st.pools[id]
	if !ok {
		return toloka.Pool{}, false
	}
	return ps.pool, true
}

// AddTasks stores tasks as they are, without validation, as if uploaded
// earlier; their pools must exist. A task without an overlap gets the pool's
// default, or 1. It returns the stored tasks with ids.
func (s *Server) AddTasks(tasks ...toloka.Task) ([]toloka.Task, error) {
	return seedItems(s, kindTask, tasks)
}

// AddTaskSuites stores suites as they are, without validation; see AddTasks.
func (s *Server) AddTaskSuites(suites ...toloka.TaskSuite) ([]toloka.TaskSuite, error) {
	return seedItems(s, kindSuite, suites)
}

func seedItems[T any](s *Server, kind itemKind, items []T) ([]T, error) {
	b := &batch{kind: kind, opts: createParams{allowDefaults: true}}
	for _, it := range items {
		switch v := any(it).(type) {
		case toloka.Task:
			b.tasks = append(b.tasks, v)
		case toloka.TaskSuite:
			b.suites = append(b.suites, v)
		}
	}
	b.n = len(items)
	b.errs = make([]fieldMap, b.n)
	b.overlaps = make([]toloka.Overlap, b.n)
	s.mu.Lock()
	for i := 0; i < b.n; i++ {
		poolID := b.poolID(i)
		ps, ok := s.st.pools[poolID]
		if !ok {
			s.mu.Unlock()
			return nil, fmt.Errorf("tolokatest: item %d: pool %q does not exist; add it with AddPool first", i, poolID)
		}
		b.overlaps[i] = b.itemOverlap(i)
		if !b.overlaps[i].IsSet() {
			b.overlaps[i] = defaultOverlap(kind, &ps.pool)
		}
		if !b.overlaps[i].IsSet() {
			b.overlaps[i] = toloka.FiniteOverlap(1)
		}
	}
	s.mu.Unlock()
	all := make([]int, b.n)
	for i := range all {
		all[i] = i
	}
	created := s.apply(b, all)
	out := make([]T, 0, b.n)
	for i := 0; i < b.n; i++ {
		var v T
		if err := json.Unmarshal(created.rendered[i], &v); err != nil {
			return nil, fmt.Errorf("tolokatest: decoding stored item %d: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Fixtures is the content of a fixture file: what a server starts with.
type Fixtures struct {
	Projects   []toloka.Project   `json:"projects"`
	Pools      []toloka.Pool      `json:"pools"`
	Trainings  []Training         `json:"trainings"`
	Tasks      []toloka.Task      `json:"tasks"`
	TaskSuites []toloka.TaskSuite `json:"task_suites"`
}

// Seed stores fixtures: projects first, then pools and trainings, then items.
func (s *Server) Seed(f Fixtures) error {
	var errs []error
	for _, p := range f.Projects {
		if _, err := s.AddProject(p); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range f.Pools {
		if _, err := s.AddPool(p); err != nil {
			errs = append(errs, err)
		}
	}
	for _, t := range f.Trainings {
		if _, err := s.AddTraining(t); err != nil {
			errs = append(errs, err)
		}
	}
	if len(f.Tasks) > 0 {
		if _, err := s.AddTasks(f.Tasks...); err != nil {
			errs = append(errs, err)
		}
	}
	if len(f.TaskSuites) > 0 {
		if _, err := s.AddTaskSuites(f.TaskSuites...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// LoadFixtures reads a JSON fixture document (the shape of Fixtures) and seeds it.
func (s *Server) LoadFixtures(r io.Reader) error {
	var f Fixtures
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("tolokatest: reading fixtures: %w", err)
	}
	return s.Seed(f)
}

// LoadFixturesFile seeds the fixtures in a JSON file.
func (s *Server) LoadFixturesFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("tolokatest: %w", err)
	}
	defer f.Close()
	if err := s.LoadFixtures(f); err != nil {
		return fmt.Errorf("%w (file %s)", err, path)
	}
	return nil
}

// TaskCount returns how many tasks a pool holds.
func (s *Server) TaskCount(poolID string) int { return s.count2(poolID, kindTask) }

// TaskSuiteCount returns how many task suites a pool holds.
func (s *Server) TaskSuiteCount(poolID string) int { return s.count2(poolID, kindSuite) }

func (s *Server) count2(poolID string, kind itemKind) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ps, ok := s.st.pools[poolID]; ok {
		return len(ps.items[kind])
	}
	return 0
}

// Tasks returns a pool's tasks in creation order, as GET /tasks would.
func (s *Server) Tasks(poolID string) []toloka.Task {
	return storedItems[toloka.Task](s, poolID, kindTask)
}

// TaskSuites returns a pool's task suites in creation order.
func (s *Server) TaskSuites(poolID string) []toloka.TaskSuite {
	return storedItems[toloka.TaskSuite](s, poolID, kindSuite)
}

func storedItems[T any](s *Server, poolID string, kind itemKind) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, ok := s.st.pools[poolID]
	if !ok {
		return nil
	}
	out := make([]T, 0, len(ps.items[kind]))
	for _, seq := range ps.items[kind] {
		r, _ := s.st.items[kind].get(seq)
		var v T
		if err := json.Unmarshal(s.st.items[kind].json(r), &v); err != nil {
			panic(fmt.Sprintf("tolokatest: stored item does not decode: %v", err))
		}
		out = append(out, v)
	}
	return out
}

// Operations returns every operation, oldest first, in its current state.
func (s *Server) Operations() []toloka.Operation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]toloka.Operation, 0, len(s.st.opList))
	for _, op := range s.st.opList {
		out = append(out, op.view())
	}
	return out
}

func sortedPoolIDs(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
