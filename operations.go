package toloka

import (
	"context"
	"encoding/json"
)

// Operation statuses (toloka-api.md §6.1). SUCCESS and FAIL are terminal;
// any other value, including ones Toloka may add, means not finished.
const (
	OperationPending = "PENDING"
	OperationRunning = "RUNNING"
	OperationSuccess = "SUCCESS"
	OperationFail    = "FAIL"
)

// Operation types of uploads (toloka-api.md §6.1); the set is open.
const (
	OperationTaskBatchCreate      = "TASK.BATCH_CREATE"
	OperationTaskSuiteBatchCreate = "TASK_SUITE.BATCH_CREATE"
	OperationPoolOpen             = "POOL.OPEN"
)

// Operation is a background job on Toloka's side, such as an async upload.
type Operation struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Status string `json:"status"`
	// Submitted, Started and Finished are absent until they happen.
	Submitted Timestamp `json:"submitted,omitzero"`
	Started   Timestamp `json:"started,omitzero"`
	Finished  Timestamp `json:"finished,omitzero"`
	// Progress is a percentage, 0 to 100, when Toloka reports it.
	Progress *int `json:"progress,omitempty"`
	// Parameters echo the call's options (open_pool, allow_defaults, ...).
	Parameters json.RawMessage `json:"parameters,omitempty"`
	// Details hold counters; for uploads see Counters.
	Details json.RawMessage `json:"details,omitempty"`
}

// IsTerminal reports whether the operation has finished, successfully or not.
func (o *Operation) IsTerminal() bool {
	return o.Status == OperationSuccess || o.Status == OperationFail
}

// OperationCounters are the counters of a batch-create operation's details
// (toloka-api.md §2.4). Missing counters are zero.
type OperationCounters struct {
	TotalCount    int64 `json:"total_count"`
	ValidCount    int64 `json:"valid_count"`
	NotValidCount int64 `json:"not_valid_count"`
	SuccessCount  int64 `json:"success_count"`
	FailedCount   int64 `json:"failed_count"`
}

// Counters decodes the upload counters from Details; it returns zeros when
// Details holds something else (toloka-api.md §6.1 notes other shapes).
func (o *Operation) Counters() OperationCounters {
	var c OperationCounters
	if len(o.Details) > 0 {
		_ = json.Unmarshal(o.Details, &c)
	}
	return c
}

// GetOperation reads an operation: GET /operations/{id}. Use it to pick up an
// upload started by another process from its operation id.
func (c *Client) GetOperation(ctx context.Context, id string, opts ...CallOption) (*Operation, error) {
	var op Operation
	if err := c.getJSON(ctx, "operations", id, &op, opts); err != nil {
		return nil, err
	}
	return &op, nil
}
