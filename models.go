package toloka

import (
	"encoding/json"
)

// Task is one unit of work for a pool with smart mixing (mixer_config) or a
// training pool; Toloka groups such tasks into pages itself
// (toloka-api.md §4, §7.4).
//
// A task with KnownSolutions is a control task; with a hint in
// MessageOnUnknownSolution as well it is a training task (§4.4).
//
// ID, Created, RemainingOverlap and OriginTaskID are set by Toloka: they are
// decoded from responses and never sent.
type Task struct {
	// ID is assigned by Toloka. Read-only.
	ID string
	// PoolID is the pool (or training) the task goes to. Required.
	PoolID string
	// InputValues are the task's data, one entry per input field of the
	// project's task_spec. Required and non-empty.
	InputValues Values
	// KnownSolutions make the task a control task.
	KnownSolutions []KnownSolution
	// MessageOnUnknownSolution is the hint shown after a wrong answer; with
	// KnownSolutions it makes the task a training task.
	MessageOnUnknownSolution string
	// BaselineSolutions are preliminary answers for dynamic overlap and
	// aggregation. Tasks only: task suites cannot carry them.
	BaselineSolutions []BaselineSolution
	// Overlap is required unless the call allows pool defaults.
	Overlap Overlap
	// ReservedFor lists the only Tolokers who may get the task (unique ids).
	ReservedFor []string
	// UnavailableFor lists Tolokers who must not get the task (unique ids).
	UnavailableFor []string
	// TraitsAllOf, TraitsAnyOf and TraitsNoneOfAny filter Tolokers by traits.
	// They appear only in the official SDKs' models, not in the API reference
	// (toloka-api.md §4.1).
	TraitsAllOf     []string
	TraitsAnyOf     []string
	TraitsNoneOfAny []string
	// LocalizationConfig translates the hint.
	LocalizationConfig *TaskLocalizationConfig
	// OriginTaskID is the task this one was copied from. Read-only.
	OriginTaskID string
	// Created is when Toloka created the task. Read-only.
	Created Timestamp
	// RemainingOverlap is how many more Tolokers can get the task. Read-only.
	RemainingOverlap *int64
}

// KnownSolution is a correct answer to a control or training task.
type KnownSolution struct {
	// OutputValues must hold every required output field of the task_spec and
	// should leave out the optional ones.
	OutputValues Values `json:"output_values"`
	// CorrectnessWeight is 0 to 1 (partial credit); nil means Toloka's default, 1.
	CorrectnessWeight *float64 `json:"correctness_weight,omitempty"`
}

// BaselineSolution is a preliminary answer used for dynamic overlap and
// skill-weighted aggregation. Tasks only.
type BaselineSolution struct {
	OutputValues Values `json:"output_values"`
	// ConfidenceWeight is 0 to 1; nil means Toloka's default, 1.
	ConfidenceWeight *float64 `json:"confidence_weight,omitempty"`
}

// TaskLocalizationConfig translates a task's hint (toloka-api.md §4.2).
type TaskLocalizationConfig struct {
	DefaultLanguage     string                    `json:"default_language,omitempty"`
	AdditionalLanguages []TaskLanguageTranslation `json:"additional_languages,omitempty"`
}

// TaskLanguageTranslation is the hint in one more language ("RU", "PT-BR", ...).
type TaskLanguageTranslation struct {
	Language                 string           `json:"language"`
	MessageOnUnknownSolution *LocalizedString `json:"message_on_unknown_solution,omitempty"`
}

// LocalizedString is a translated text and who translated it ("REQUESTER").
type LocalizedString struct {
	Value  string `json:"value"`
	Source string `json:"source,omitempty"`
}

// taskJSON is the wire form of a Task. Encoding fills only the writable
// fields, so read-only ones never leave the client.
type taskJSON struct {
	ID                       string                  `json:"id,omitempty"`
	PoolID                   string                  `json:"pool_id"`
	InputValues              Values                  `json:"input_values"`
	KnownSolutions           []KnownSolution         `json:"known_solutions,omitempty"`
	MessageOnUnknownSolution string                  `json:"message_on_unknown_solution,omitempty"`
	BaselineSolutions        []BaselineSolution      `json:"baseline_solutions,omitempty"`
	Overlap                  json.RawMessage         `json:"overlap,omitempty"`
	InfiniteOverlap          *bool                   `json:"infinite_overlap,omitempty"`
	ReservedFor              []string                `json:"reserved_for,omitempty"`
	UnavailableFor           []string                `json:"unavailable_for,omitempty"`
	TraitsAllOf              []string                `json:"traits_all_of,omitempty"`
	TraitsAnyOf              []string                `json:"traits_any_of,omitempty"`
	TraitsNoneOfAny          []string                `json:"traits_none_of_any,omitempty"`
	LocalizationConfig       *TaskLocalizationConfig `json:"localization_config,omitempty"`
	OriginTaskID             string                  `json:"origin_task_id,omitempty"`
	Created                  Timestamp               `json:"created,omitzero"`
	RemainingOverlap         *int64                  `json:"remaining_overlap,omitempty"`
}

// MarshalJSON encodes the writable fields of the task as Toloka expects them
// on create; read-only fields are left out.
func (t Task) MarshalJSON() ([]byte, error) {
	w := taskJSON{
		PoolID:                   t.PoolID,
		InputValues:              t.InputValues,
		KnownSolutions:           t.KnownSolutions,
		MessageOnUnknownSolution: t.MessageOnUnknownSolution,
		BaselineSolutions:        t.BaselineSolutions,
		ReservedFor:              t.ReservedFor,
		UnavailableFor:           t.UnavailableFor,
		TraitsAllOf:              t.TraitsAllOf,
		TraitsAnyOf:              t.TraitsAnyOf,
		TraitsNoneOfAny:          t.TraitsNoneOfAny,
		LocalizationConfig:       t.LocalizationConfig,
	}
	w.Overlap, w.InfiniteOverlap = t.Overlap.wire()
	return marshalJSON(w)
}

// UnmarshalJSON decodes a task as Toloka returns it, read-only fields
// included; unknown fields are ignored.
func (t *Task) UnmarshalJSON(data []byte) error {
	var w struct {
		taskJSON
		Overlap *int64 `json:"overlap"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*t = Task{
		ID:                       w.ID,
		PoolID:                   w.PoolID,
		InputValues:              w.InputValues,
		KnownSolutions:           w.KnownSolutions,
		MessageOnUnknownSolution: w.MessageOnUnknownSolution,
		BaselineSolutions:        w.BaselineSolutions,
		Overlap:                  overlapFromWire(w.Overlap, w.InfiniteOverlap),
		ReservedFor:              w.ReservedFor,
		UnavailableFor:           w.UnavailableFor,
		TraitsAllOf:              w.TraitsAllOf,
		TraitsAnyOf:              w.TraitsAnyOf,
		TraitsNoneOfAny:          w.TraitsNoneOfAny,
		LocalizationConfig:       w.LocalizationConfig,
		OriginTaskID:             w.OriginTaskID,
		Created:                  w.Created,
		RemainingOverlap:         w.RemainingOverlap,
	}
	return nil
}

// TaskSuite is a page of tasks uploaded as one unit into a pool without smart
// mixing (toloka-api.md §5, §7.4). Overlap, reservations and issuing order
// belong to the suite, not to its tasks.
//
// ID, Created, RemainingOverlap and Automerged are set by Toloka: they are
// decoded from responses and never sent.
type TaskSuite struct {
	// ID is assigned by Toloka. Read-only.
	ID string
	// PoolID is the pool the suite goes to; it must not use smart mixing. Required.
	PoolID string
	// Tasks are shown together on one page. Required and non-empty.
	Tasks []SuiteTask
	// Overlap is required unless the call allows pool defaults.
	Overlap Overlap
	// ReservedFor and UnavailableFor hold unique Toloker ids.
	ReservedFor    []string
	UnavailableFor []string
	// IssuingOrderOverride ranks suites (larger is issued earlier) when the
	// pool issues suites in creation order; -99999.99999 to 99999.99999.
	IssuingOrderOverride *float64
	// Mixed marks a suite produced by smart mixing; Toloka's default is false.
	Mixed *bool
	// Latitude and Longitude place the suite on the map for projects that
	// issue tasks through a map selector; give both or neither.
	Latitude  *float64
	Longitude *float64
	// TraitsAllOf, TraitsAnyOf and TraitsNoneOfAny are SDK-model-only fields
	// (toloka-api.md §5).
	TraitsAllOf     []string
	TraitsAnyOf     []string
	TraitsNoneOfAny []string
	// Automerged is true when Toloka merged identical tasks into the suite. Read-only.
	Automerged bool
	// Created is when Toloka created the suite. Read-only.
	Created Timestamp
	// RemainingOverlap is how many more Tolokers can get the suite. Read-only.
	RemainingOverlap *int64
}

// SuiteTask is a task inside a TaskSuite (the API's BaseTask, toloka-api.md
// §5.1). It has no pool, overlap or baseline solutions: the suite carries
// the first two, and Toloka refuses the third inside suites, so the type
// cannot express it.
type SuiteTask struct {
	// ID is assigned by Toloka. Read-only.
	ID string `json:"id,omitempty"`
	// InputValues are the task's data. Required and non-empty.
	InputValues Values `json:"input_values"`
	// KnownSolutions make the task a control task.
	KnownSolutions []KnownSolution `json:"known_solutions,omitempty"`
	// MessageOnUnknownSolution is the hint of a training task.
	MessageOnUnknownSolution string `json:"message_on_unknown_solution,omitempty"`
	// LocalizationConfig translates the hint.
	LocalizationConfig *TaskLocalizationConfig `json:"localization_config,omitempty"`
	// OriginTaskID is the task this one was copied from. Read-only.
	OriginTaskID string `json:"origin_task_id,omitempty"`
}

// suiteTaskJSON is the wire form of a SuiteTask on create.
type suiteTaskJSON struct {
	InputValues              Values                  `json:"input_values"`
	KnownSolutions           []KnownSolution         `json:"known_solutions,omitempty"`
	MessageOnUnknownSolution string                  `json:"message_on_unknown_solution,omitempty"`
	LocalizationConfig       *TaskLocalizationConfig `json:"localization_config,omitempty"`
}

// MarshalJSON encodes the writable fields of the task; ID and OriginTaskID
// are left out.
func (t SuiteTask) MarshalJSON() ([]byte, error) {
	return marshalJSON(suiteTaskJSON{
		InputValues:              t.InputValues,
		KnownSolutions:           t.KnownSolutions,
		MessageOnUnknownSolution: t.MessageOnUnknownSolution,
		LocalizationConfig:       t.LocalizationConfig,
	})
}

// UnmarshalJSON decodes a task of a suite, read-only fields included.
func (t *SuiteTask) UnmarshalJSON(data []byte) error {
	type plain SuiteTask // drops the methods, so json does not recurse
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*t = SuiteTask(p)
	return nil
}

// taskSuiteJSON is the wire form of a TaskSuite.
type taskSuiteJSON struct {
	ID                   string          `json:"id,omitempty"`
	PoolID               string          `json:"pool_id"`
	Tasks                []SuiteTask     `json:"tasks"`
	Overlap              json.RawMessage `json:"overlap,omitempty"`
	InfiniteOverlap      *bool           `json:"infinite_overlap,omitempty"`
	ReservedFor          []string        `json:"reserved_for,omitempty"`
	UnavailableFor       []string        `json:"unavailable_for,omitempty"`
	IssuingOrderOverride *float64        `json:"issuing_order_override,omitempty"`
	Mixed                *bool           `json:"mixed,omitempty"`
	Latitude             *float64        `json:"latitude,omitempty"`
	Longitude            *float64        `json:"longitude,omitempty"`
	TraitsAllOf          []string        `json:"traits_all_of,omitempty"`
	TraitsAnyOf          []string        `json:"traits_any_of,omitempty"`
	TraitsNoneOfAny      []string        `json:"traits_none_of_any,omitempty"`
	Automerged           bool            `json:"automerged,omitempty"`
	Created              Timestamp       `json:"created,omitzero"`
	RemainingOverlap     *int64          `json:"remaining_overlap,omitempty"`
}

// MarshalJSON encodes the writable fields of the suite as Toloka expects
// them on create; read-only fields are left out.
func (s TaskSuite) MarshalJSON() ([]byte, error) {
	w := taskSuiteJSON{
		PoolID:               s.PoolID,
		Tasks:                s.Tasks,
		ReservedFor:          s.ReservedFor,
		UnavailableFor:       s.UnavailableFor,
		IssuingOrderOverride: s.IssuingOrderOverride,
		Mixed:                s.Mixed,
		Latitude:             s.Latitude,
		Longitude:            s.Longitude,
		TraitsAllOf:          s.TraitsAllOf,
		TraitsAnyOf:          s.TraitsAnyOf,
		TraitsNoneOfAny:      s.TraitsNoneOfAny,
	}
	w.Overlap, w.InfiniteOverlap = s.Overlap.wire()
	return marshalJSON(w)
}

// UnmarshalJSON decodes a suite as Toloka returns it; unknown fields are ignored.
func (s *TaskSuite) UnmarshalJSON(data []byte) error {
	var w struct {
		taskSuiteJSON
		Overlap *int64 `json:"overlap"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*s = TaskSuite{
		ID:                   w.ID,
		PoolID:               w.PoolID,
		Tasks:                w.Tasks,
		Overlap:              overlapFromWire(w.Overlap, w.InfiniteOverlap),
		ReservedFor:          w.ReservedFor,
		UnavailableFor:       w.UnavailableFor,
		IssuingOrderOverride: w.IssuingOrderOverride,
		Mixed:                w.Mixed,
		Latitude:             w.Latitude,
		Longitude:            w.Longitude,
		TraitsAllOf:          w.TraitsAllOf,
		TraitsAnyOf:          w.TraitsAnyOf,
		TraitsNoneOfAny:      w.TraitsNoneOfAny,
		Automerged:           w.Automerged,
		Created:              w.Created,
		RemainingOverlap:     w.RemainingOverlap,
	}
	return nil
}
