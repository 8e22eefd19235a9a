package toloka

import (
	"context"
	"errors"
	"fmt"
)

// uploadRunner returns the batchRunner through which an upload sends its
// batches: one async create per batch (the body as the uploader encoded it,
// with operation_id = b.OperationID), a wait for the operation, and its log
// read into a batchOutcome by b.Position of each entry's __item_idx. A 409
// OPERATION_ALREADY_EXISTS means the batch was sent before (a retry, or a
// rerun of the upload): that operation is waited for and read instead
// (toloka-api.md §2.4), so no batch is ever created twice.
func (c *Client) uploadRunner(collection string, cfg *callConfig, opts []CallOption) batchRunner {
	return func(ctx context.Context, b *uploadBatch) (batchOutcome, error) {
		// The item count is not checked against an adopted operation: a
		// rerun may batch fewer or more items (validation, SkipValidation)
		// under the same id, and the global __item_idx markers map what that
		// operation did to this batch's items either way; items it did not
		// carry are reported as failed.
		op, err := c.postAsync(ctx, collection, b.Body, 0, b.OperationID, cfg, opts)
		if err != nil {
			return batchOutcome{}, err
		}
		done, err := c.waitOperation(ctx, op.ID, op, cfg, opts)
		var opErr *OperationError
		switch {
		case errors.As(err, &opErr):
			done = opErr.Operation // a FAIL still has a log that says which items failed
		case err != nil:
			return batchOutcome{}, err
		}
		out := batchOutcome{IDs: make([]string, b.Len())}
		err = c.readLog(ctx, done.ID, true, opts, func(e *OperationLogEntry) error {
			index, ok := e.ItemIndex()
			pos := -1
			if ok {
				pos, ok = b.Position(index)
			}
			if !ok {
				// POOL_OPEN and other steps about no single item, or an entry
				// about no item of this batch: kept for the summary (the
				// batch's items it does not mention are reported as failed).
				out.other(e)
				return nil
			}
			if id := e.CreatedID(); id != "" {
				if prev := out.IDs[pos]; prev != "" && prev != id {
					out.other(e) // a second id for one item: not silently overwritten
					return nil
				}
				out.IDs[pos] = id
				return nil
			}
			for _, fe := range e.FieldErrors() {
				fe.Index = pos
				out.Errors = append(out.Errors, fe)
			}
			return nil
		})
		if err != nil {
			return batchOutcome{}, fmt.Errorf("toloka: reading the log of operation %s: %w", done.ID, err)
		}
		return out, nil
	}
}

// other counts an entry about no single item of the batch and keeps the first.
func (o *batchOutcome) other(e *OperationLogEntry) {
	o.OtherCount++
	if len(o.Other) < maxFailedBatchesKept {
		o.Other = append(o.Other, cloneEntry(e))
	}
}
