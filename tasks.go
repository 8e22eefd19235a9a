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

// endpointOf returns the API path that creates items of the collection.
func endpointOf(collection string) string {
	if collection == collectionTaskSuites {
		return "task-suites"
	}
	return "tasks"
}

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

// parseIndexKey reads an item index written as a canonical decimal string. "01"
// or "+1" are refused: they would alias "1" and make the result depend on map
// order.
func parseIndexKey(key string) (int, error) {
	index, err := strconv.Atoi(key)
	if err != nil || index < 0 || strconv.Itoa(index) != key {
		return 0, fmt.Errorf("%q is not an item index", key)
	}
	return index, nil
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
		index, err := parseIndexKey(key)
		if err != nil {
			return nil, fmt.Errorf("item key %q is not an index", key)
		}
		res.Items[index] = item
	}
	for key, fields := range wire.ValidationErrors {
		index, err := parseIndexKey(key)
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
// is not an error: check result.Err() or result.ValidationErrors. Tasks the
// SDK's own validation rejects are then not sent at all; they appear in
// result.ValidationErrors at their index like Toloka's rejections.
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
		return nil, &ValidationError{Errors: []FieldError{{Index: -1, Code: CodeEntityTooLarge, Collection: collection,
			Message: fmt.Sprintf("%d %s in one synchronous request; Toloka takes at most %d: split the batch, use the async calls (up to %d), or upload any number with UploadTasks / UploadTaskSuites", len(items), collection, MaxSyncBatch, MaxAsyncBatch)}}}
	}
	cfg := newCallConfig(opts)
	send, pick, err := validateBatch(ctx, c, collection, items, cfg)
	if err != nil || len(send) == 0 {
		return pick.result(nil), err
	}
	r, err := newCreateRequest(collection, send, createQuery{CreateOptions: cfg.create})
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := c.doJSON(ctx, r, &raw, opts); err != nil {
		return nil, pick.apiError(labelFieldErrors(err, collection))
	}
	res, err := decodeBatchResult[T](raw, collection)
	if err == nil {
		err = checkIndexes(res, len(send))
	}
	if err != nil {
		return nil, unreadableAnswer(r, fmt.Errorf("toloka: POST /%s: decoding batch result: %w (body %q)", endpointOf(collection), err, excerpt(c.scrub(raw))))
	}
	return pick.result(res), nil
}

// validateBatch validates items before a batch create. Without
// SkipInvalidItems any problem fails the call, as Toloka would fail it. With
// it, the items the client already knows Toloka would refuse are left out of
// the request and reported at their own index, like the server's
// rejections; only problems of the request as a whole (its byte budgets)
// still fail the call. It returns the items to send and how to map the
// server's indexes back.
func validateBatch[T any](ctx context.Context, c *Client, collection string, items []T, cfg *callConfig) ([]T, *subset[T], error) {
	err := c.validateItems(ctx, collection, items, cfg)
	var ve *ValidationError
	if err == nil || !cfg.create.SkipInvalidItems || !errors.As(err, &ve) {
		return items, nil, err
	}
	rejected := map[int][]FieldError{}
	for _, fe := range ve.Errors {
		if fe.Index < 0 || fe.Index >= len(items) {
			return nil, nil, err
		}
		rejected[fe.Index] = append(rejected[fe.Index], fe)
	}
	pick := &subset[T]{rejected: rejected}
	send := make([]T, 0, len(items)-len(rejected))
	for i := range items {
		if _, bad := rejected[i]; !bad {
			pick.original = append(pick.original, i)
			send = append(send, items[i])
		}
	}
	return send, pick, nil
}

// subset maps the indexes of a request that left out the items the client
// rejected back to the caller's indexes. A nil *subset is the identity.
type subset[T any] struct {
	original []int                // request index → caller's index
	rejected map[int][]FieldError // by caller's index
}

// result translates a batch result of the sent items into one of all items,
// adding the client's rejections. res may be nil when nothing was sent.
func (p *subset[T]) result(res *BatchResult[T]) *BatchResult[T] {
	if p == nil {
		return res
	}
	out := &BatchResult[T]{Items: map[int]T{}, ValidationErrors: p.rejected}
	if res == nil {
		return out
	}
	for i, item := range res.Items {
		out.Items[p.original[i]] = item
	}
	p.addRejections(out.ValidationErrors, res.ValidationErrors)
	return out
}

// uploadResults translates the log results of the sent items into results
// for all items, adding the client's rejections.
func (p *subset[T]) uploadResults(r *UploadResults) *UploadResults {
	if p == nil || r == nil {
		return r
	}
	out := &UploadResults{Created: make(map[int]string, len(r.Created)), ValidationErrors: p.rejected, Other: r.Other, Unmatched: r.Unmatched}
	for i, id := range r.Created {
		out.Created[p.original[i]] = id
	}
	p.addRejections(out.ValidationErrors, r.ValidationErrors)
	return out
}

// apiError maps the item indexes of a server error about the sent items
// back to the caller's, and adds the client's own rejections, so one error
// names every rejected item at its own index.
func (p *subset[T]) apiError(err error) error {
	var apiErr *APIError
	if p == nil || !errors.As(err, &apiErr) {
		return err
	}
	for i, fe := range apiErr.FieldErrors {
		if fe.Index >= 0 && fe.Index < len(p.original) {
			apiErr.FieldErrors[i].Index = p.original[fe.Index]
		}
	}
	for _, index := range sortedKeys(p.rejected) {
		apiErr.FieldErrors = append(apiErr.FieldErrors, p.rejected[index]...)
	}
	sortFieldErrors(apiErr.FieldErrors)
	return err
}

// addRejections moves the server's rejections, keyed by request index, into
// dst under the caller's indexes.
func (p *subset[T]) addRejections(dst, server map[int][]FieldError) {
	for i, errs := range server {
		index := p.original[i]
		for k := range errs {
			errs[k].Index = index
		}
		dst[index] = errs
	}
}

// checkIndexes refuses a batch result naming an index the request did not have.
func checkIndexes[T any](res *BatchResult[T], sent int) error {
	for i := range res.Items {
		if i >= sent {
			return fmt.Errorf("item index %d, but the request had %d items", i, sent)
		}
	}
	for i := range res.ValidationErrors {
		if i >= sent {
			return fmt.Errorf("validation_errors index %d, but the request had %d items", i, sent)
		}
	}
	return nil
}

// newCreateRequest encodes a sync create call. Sync creates cannot be
// deduplicated by Toloka, so they are marked unsafe to resend; async creates
// go through postAsync.
func newCreateRequest(collection string, body any, q createQuery) (*apiRequest, error) {
	values, err := q.values()
	if err != nil {
		return nil, fmt.Errorf("toloka: encoding query: %w", err)
	}
	data, err := encodeJSON(body)
	if err != nil {
		return nil, err
	}
	return &apiRequest{method: http.MethodPost, path: endpointOf(collection), query: values, body: data, retry: retryUnsafe}, nil
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
