package toloka

import (
	"context"
	"encoding/json"
	"net/http"
)

// Pool statuses (toloka-api.md §7.1).
const (
	PoolOpen     = "OPEN"
	PoolClosed   = "CLOSED"
	PoolArchived = "ARCHIVED"
	PoolLocked   = "LOCKED"
)

// Pool is the part of a pool's settings that decides how tasks may be
// uploaded to it (toloka-api.md §7). Fields the SDK does not model are
// ignored when decoding.
type Pool struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	// Status is PoolOpen, PoolClosed, PoolArchived or PoolLocked. Archived
	// pools take no uploads.
	Status          string `json:"status,omitempty"`
	LastCloseReason string `json:"last_close_reason,omitempty"`
	// MixerConfig is set exactly when the pool uses smart mixing: such a pool
	// takes single tasks (CreateTasks), any other takes task suites.
	MixerConfig *MixerConfig `json:"mixer_config,omitempty"`
	// Defaults hold the overlap applied when a call allows defaults.
	Defaults                 *PoolDefaults             `json:"defaults,omitempty"`
	AssignmentsIssuingConfig *AssignmentsIssuingConfig `json:"assignments_issuing_config,omitempty"`
	// RewardPerAssignment is in USD; a zero-price pool takes only control and
	// training tasks.
	RewardPerAssignment                *float64 `json:"reward_per_assignment,omitempty"`
	AutoCloseAfterCompleteDelaySeconds *int64   `json:"auto_close_after_complete_delay_seconds,omitempty"`
	// Training is true for a training pool, which takes training tasks
	// through CreateTasks even without a mixer config.
	Training    bool      `json:"training,omitempty"`
	Type        string    `json:"type,omitempty"`
	PrivateName string    `json:"private_name,omitempty"`
	Created     Timestamp `json:"created,omitzero"`
}

// UsesSmartMixing reports whether the pool takes single tasks rather than
// task suites (toloka-api.md §7.4).
func (p *Pool) UsesSmartMixing() bool { return p.MixerConfig != nil }

// MixerConfig is a pool's smart-mixing setup: how many general, control and
// training tasks Toloka puts on one page (toloka-api.md §7.2).
type MixerConfig struct {
	RealTasksCount                   int                       `json:"real_tasks_count"`
	GoldenTasksCount                 int                       `json:"golden_tasks_count"`
	TrainingTasksCount               int                       `json:"training_tasks_count"`
	MinRealTasksCount                *int                      `json:"min_real_tasks_count,omitempty"`
	MinGoldenTasksCount              *int                      `json:"min_golden_tasks_count,omitempty"`
	MinTrainingTasksCount            *int                      `json:"min_training_tasks_count,omitempty"`
	ForceLastAssignment              *bool                     `json:"force_last_assignment,omitempty"`
	ForceLastAssignmentDelaySeconds  *int                      `json:"force_last_assignment_delay_seconds,omitempty"`
	MixTasksInCreationOrder          *bool                     `json:"mix_tasks_in_creation_order,omitempty"`
	ShuffleTasksInTaskSuite          *bool                     `json:"shuffle_tasks_in_task_suite,omitempty"`
	GoldenTaskDistributionFunction   *TaskDistributionFunction `json:"golden_task_distribution_function,omitempty"`
	TrainingTaskDistributionFunction *TaskDistributionFunction `json:"training_task_distribution_function,omitempty"`
}

// IssuesControlTasks reports whether pages of this pool can hold control tasks.
func (m *MixerConfig) IssuesControlTasks() bool {
	return m.GoldenTasksCount > 0 || m.GoldenTaskDistributionFunction != nil
}

// IssuesTrainingTasks reports whether pages of this pool can hold training tasks.
func (m *MixerConfig) IssuesTrainingTasks() bool {
	return m.TrainingTasksCount > 0 || m.TrainingTaskDistributionFunction != nil
}

// TaskDistributionFunction varies how often control or training tasks appear.
type TaskDistributionFunction struct {
	Scope        string                 `json:"scope,omitempty"`
	Distribution string                 `json:"distribution,omitempty"`
	WindowDays   int                    `json:"window_days,omitempty"`
	Intervals    []DistributionInterval `json:"intervals,omitempty"`
}

// DistributionInterval is one step of a TaskDistributionFunction.
type DistributionInterval struct {
	From      int `json:"from"`
	To        int `json:"to"`
	Frequency int `json:"frequency"`
}

// PoolDefaults are the overlaps a pool applies when a create call allows
// defaults and the item gives none (toloka-api.md §7.3).
type PoolDefaults struct {
	DefaultOverlapForNewTaskSuites *int64 `json:"default_overlap_for_new_task_suites,omitempty"`
	DefaultOverlapForNewTasks      *int64 `json:"default_overlap_for_new_tasks,omitempty"`
}

// AssignmentsIssuingConfig controls the order suites are issued in.
type AssignmentsIssuingConfig struct {
	IssueTaskSuitesInCreationOrder bool `json:"issue_task_suites_in_creation_order"`
}

// Project is the part of a project that uploads are validated against: its
// task_spec (toloka-api.md §14.1).
type Project struct {
	ID                          string    `json:"id"`
	PublicName                  string    `json:"public_name,omitempty"`
	Status                      string    `json:"status,omitempty"`
	TaskSpec                    TaskSpec  `json:"task_spec"`
	AssignmentsIssuingType      string    `json:"assignments_issuing_type,omitempty"`
	AssignmentsAutomergeEnabled bool      `json:"assignments_automerge_enabled,omitempty"`
	Created                     Timestamp `json:"created,omitzero"`
}

// TaskSpec declares the fields of a project's tasks and answers. ViewSpec is
// kept as raw JSON: it shapes the task UI and plays no part in validation.
type TaskSpec struct {
	InputSpec  map[string]FieldSpec `json:"input_spec"`
	OutputSpec map[string]FieldSpec `json:"output_spec"`
	ViewSpec   json.RawMessage      `json:"view_spec,omitempty"`
}

// Field types of a task_spec (toloka-api.md §14.2). Each has an "array_" form.
const (
	FieldBoolean     = "boolean"
	FieldString      = "string"
	FieldInteger     = "integer"
	FieldFloat       = "float"
	FieldURL         = "url"
	FieldFile        = "file"
	FieldCoordinates = "coordinates"
	FieldJSON        = "json"
	ArrayFieldPrefix = "array_"
)

// FieldSpec declares one input or output field (toloka-api.md §14.2). A
// missing "required" decodes as true, as the API reference says.
type FieldSpec struct {
	Type     string `json:"type"`
	Required bool   `json:"required"`
	Hidden   bool   `json:"hidden,omitempty"`
	// MinLength and MaxLength bound string lengths.
	MinLength *int `json:"min_length,omitempty"`
	MaxLength *int `json:"max_length,omitempty"`
	// MinValue and MaxValue bound numbers.
	MinValue *json.Number `json:"min_value,omitempty"`
	MaxValue *json.Number `json:"max_value,omitempty"`
	// AllowedValues restricts the value to a set.
	AllowedValues []any `json:"allowed_values,omitempty"`
	// Pattern is a regular expression a string must match.
	Pattern string `json:"pattern,omitempty"`
	// MinSize and MaxSize bound the element count of array_ types.
	MinSize *int `json:"min_size,omitempty"`
	MaxSize *int `json:"max_size,omitempty"`
	// CurrentLocation asks the mobile app for the Toloker's location (output coordinates).
	CurrentLocation *bool `json:"current_location,omitempty"`
}

// UnmarshalJSON decodes a field spec, defaulting Required to true.
func (f *FieldSpec) UnmarshalJSON(data []byte) error {
	type plain FieldSpec
	p := plain{Required: true}
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*f = FieldSpec(p)
	return nil
}

// GetPool reads a pool's settings: GET /pools/{id}.
func (c *Client) GetPool(ctx context.Context, id string, opts ...CallOption) (*Pool, error) {
	var p Pool
	if err := c.getJSON(ctx, "pools", id, &p, opts); err != nil {
		return nil, err
	}
	return &p, nil
}

// GetProject reads a project and its task_spec: GET /projects/{id}.
func (c *Client) GetProject(ctx context.Context, id string, opts ...CallOption) (*Project, error) {
	var p Project
	if err := c.getJSON(ctx, "projects", id, &p, opts); err != nil {
		return nil, err
	}
	return &p, nil
}

// getJSON reads one resource by id into out.
func (c *Client) getJSON(ctx context.Context, collection, id string, out any, opts []CallOption) error {
	path, err := resourcePath(collection, id)
	if err != nil {
		return err
	}
	return c.doJSON(ctx, &apiRequest{method: http.MethodGet, path: path, retry: retrySafe}, out, opts)
}
