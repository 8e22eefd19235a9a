package toloka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
)

// MaxSyncBatch is the most items one synchronous create request may carry
// (toloka-api.md §2.5). Toloka documents it for tasks; the SDK applies it to
// task suites as well, as toloka-kit's docs do (§3.3).
const MaxSyncBatch = 5000

// Collections named in field-error paths.
const (
	collectionTasks      = "tasks"
	collectionTaskSuites = "task_suites"
)

// BatchResult is the outcome of a batch create: what was created and what
// was rejected, each keyed by the item's position in the request. A batch in
// which some items were rejected is not an error; call Err to treat it as one.
type BatchResult[T any] struct {
	// Items are the created objects, with their ids, by request index.
	Items map[int]T
	// ValidationErrors are the rejected items' problems, by request index.
	ValidationErrors map[int][]FieldError
}

// TaskBatchResult is the outcome of CreateTasks.
type TaskBatchResult = BatchResult[Task]

// TaskSuiteBatchResult is the outcome of CreateTaskSuites.
type TaskSuiteBatchResult = BatchResult[TaskSuite]

// Err returns nil when no item was rejected, and otherwise a
// *ValidationError listing every rejected item's problems by index, for
// callers that want to fail fast.
func (r *BatchResult[T]) Err() error {
	if len(r.ValidationErrors) == 0 {
		return nil
	}
	var all []FieldError
	for _, index := range r.RejectedIndexes() {
		all = append(all, r.ValidationErrors[index]...)
	}
	return &ValidationError{Errors: all}
}

// CreatedIndexes returns the request indexes of the created items, ascending.
func (r *BatchResult[T]) CreatedIndexes() []int { return sortedKeys(r.Items) }

// RejectedIndexes returns the request indexes of the rejected items, ascending.
func (r *BatchResult[T]) RejectedIndexes() []int { return sortedKeys(r.ValidationErrors) }

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// decodeBatchResult reads the sync batch body of toloka-api.md §2.3, whose
// keys are request indexes written as decimal strings.
func decodeBatchResult[T any](data []byte, collection string) (*BatchResult[T], error) {
	var wire struct {
		Items            map[string]T                         `json:"items"`
		ValidationErrors map[string]map[string]fieldErrorJSON `json:"validation_errors"`
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		return nil, err
	}
	res := &BatchResult[T]{Items: make(map[int]T, len(wire.Items)), ValidationErrors: map[int][]FieldError{}}
	for key, item := range wire.Items {
		index, err := strconv.Atoi(key)
		if err != nil {
			return nil, fmt.Errorf("item key %q is not an index", key)
		}
		res.Items[index] = item
	}
	for key, fields := range wire.ValidationErrors {
		index, err := strconv.Atoi(key)
		if err != nil {
			return nil, fmt.Errorf("validation_errors key %q is not an index", key)
		}
		res.ValidationErrors[index] = fieldErrorsFromMap(index, collection, fields)
	}
	return res, nil
}

// CreateTask creates one task synchronously: POST /tasks?async_mode=false.
// The task goes to a pool with smart mixing or a training pool.
//
// A sync create has no idempotency key, so it is never resent once the
// request may have reached Toloka; use CreateTasksAsync where exactly-once
// matters. The task is validated before sending unless SkipValidation is given.
func (c *Client) CreateTask(ctx context.Context, task Task, opts ...CallOption) (*Task, error) {
	var created Task
	if err := c.createOne(ctx, collectionTasks, task, &created, opts); err != nil {
		return nil, err
	}
	return &created, nil
}

// CreateTasks creates up to MaxSyncBatch (5,000) tasks in one synchronous
// request: POST /tasks?async_mode=false. Tasks may target different pools.
//
// Without CreateOptions.SkipInvalidItems one invalid task fails the whole
// batch with an *APIError (nothing is created); with it, the valid tasks are
// created and the rest are reported in the result by index. Partial success
// is not an error: check result.Err() or result.ValidationErrors.
//
// Larger uploads go through CreateTasksAsync or the bulk uploader. Like
// CreateTask, the request is not resent once it may have reached Toloka.
func (c *Client) CreateTasks(ctx context.Context, tasks []Task, opts ...CallOption) (*TaskBatchResult, error) {
	return createBatch[Task](ctx, c, collectionTasks, tasks, opts)
}

// createOne sends one object synchronously and decodes the created object.
func (c *Client) createOne(ctx context.Context, collection string, item any, out any, opts []CallOption) error {
	cfg := newCallConfig(opts)
	if err := c.validateItems(ctx, collection, item, cfg); err != nil {
		return err
	}
	r, err := newCreateRequest(collection, item, createQuery{CreateOptions: cfg.create})
	if err != nil {
		return err
	}
	return labelFieldErrors(c.doJSON(ctx, r, out, opts), collection)
}

// createBatch sends items in one synchronous request and decodes the
// index-keyed result.
func createBatch[T any](ctx context.Context, c *Client, collection string, items []T, opts []CallOption) (*BatchResult[T], error) {
	if len(items) == 0 {
		return nil, fmt.Errorf("toloka: no %s to create", collection)
	}
	if len(items) > MaxSyncBatch {
		return nil, fmt.Errorf("toloka: %d %s in one synchronous request; Toloka takes at most %d: split the batch, or use the async or bulk upload calls", len(items), collection, MaxSyncBatch)
	}
	cfg := newCallConfig(opts)
	if err := c.validateItems(ctx, collection, items, cfg); err != nil {
		return nil, err
	}
	r, err := newCreateRequest(collection, items, createQuery{CreateOptions: cfg.create})
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := c.doJSON(ctx, r, &raw, opts); err != nil {
		return nil, labelFieldErrors(err, collection)
	}
	res, err := decodeBatchResult[T](raw, collection)
	if err != nil {
		return nil, fmt.Errorf("toloka: POST /%s: decoding batch result: %w (body %q)", collection, err, excerpt(raw))
	}
	return res, nil
}

// newCreateRequest encodes a create call. Sync creates cannot be deduplicated
// by Toloka, so they are marked unsafe to resend.
func newCreateRequest(collection string, body any, q createQuery) (*apiRequest, error) {
	values, err := q.values()
	if err != nil {
		return nil, fmt.Errorf("toloka: encoding query: %w", err)
	}
	data, err := encodeJSON(body)
	if err != nil {
		return nil, err
	}
	retry := retryUnsafe
	if q.AsyncMode && q.OperationID != "" {
		retry = retrySafe
	}
	return &apiRequest{method: http.MethodPost, path: collectionPath(collection), query: values, body: data, retry: retry}, nil
}

// collectionPath is the URL path of a collection: field-error paths say
// "task_suites", the API's route is /task-suites (toloka-api.md §3).
func collectionPath(collection string) string {
	if collection == collectionTaskSuites {
		return "task-suites"
	}
	return collection
}

// labelFieldErrors names the collection in the field errors of a server
// validation error, so their paths read "tasks[3].input_values.image".
func labelFieldErrors(err error, collection string) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		for i := range apiErr.FieldErrors {
			apiErr.FieldErrors[i].Collection = collection
		}
	}
	return err
}
