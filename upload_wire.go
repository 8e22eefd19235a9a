package toloka

import (
	"context"
)

// errUploadNotWired is returned for every batch until uploadRunner sends
// batches through the async create calls.
const errUploadNotWired Error = ("toloka: bulk upload is not wired to the async create calls in this build")

// uploadRunner returns the batchRunner through which an upload sends its
// batches: one async create request per batch (POST /tasks or /task-suites
// with async_mode=true, skip_invalid_items=true, the call's other
// CreateOptions and operation_id=b.OperationID, body b.Body as is), a wait
// for the operation, and its log read back into a batchOutcome by
// b.Position of the entry's __item_idx. A 409 OPERATION_ALREADY_EXISTS means the
// batch was sent before (a retry or a resumed upload): wait for that
// operation and read its log instead (toloka-api.md §2.4).
func (c *Client) uploadRunner(collection string, cfg *callConfig) batchRunner {
	_, _ = collection, cfg
	return func(context.Context, *uploadBatch) (batchOutcome, error) {
		return batchOutcome{}, errUploadNotWired
	}
}
