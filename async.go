package toloka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// MaxAsyncBatch is the most items one async create request may carry. Toloka
// documents no hard cap, only a recommendation of at most 10,000 items per
// async request (toloka-api.md §2.5, §3.3); the SDK enforces it, because a
// larger request is already close to the 1 MiB input_values budget, its
// fate past the recommendation is undocumented, and its log would grow
// without bound. Larger uploads go through the bulk uploader, which splits
// them.
const MaxAsyncBatch = 10000

// asyncConfig is the async part of a callConfig.
type asyncConfig struct {
	operationID string
	readBack    bool
	resultsInto *UploadResults
	wait        waitConfig
}

// WithOperationID makes an async create use id as its operation_id instead
// of a fresh random UUID. id must be a UUID in canonical lowercase form
// ("8-4-4-4-12" hex digits, as uuid.NewString returns).
//
// Give one to make an upload resumable across processes: sending the same
// items again with the same id finds the existing operation (Toloka answers
// 409 OPERATION_ALREADY_EXISTS) instead of creating them twice. Never reuse
// an id for different items.
func WithOperationID(id string) CallOption {
	return callOptionFunc(func(c *callConfig) { c.async.operationID = id })
}

// WithReadBack makes CreateTasksAndWait and CreateTaskSuitesAndWait read the
// created objects back from Toloka, with every server-set field, instead of
// returning the submitted objects with their new ids. It costs one
// GET /tasks (or /task-suites) request per pool and per 10,000 created items.
func WithReadBack() CallOption {
	return callOptionFunc(func(c *callConfig) { c.async.readBack = true })
}

// WithUploadResultsInto makes CreateTasksAndWait and
// CreateTaskSuitesAndWait also store the full per-item reading of the log in
// *dst, including what a BatchResult has no place for: entries about no
// single item, such as a failed POOL_OPEN step of an upload with
// CreateOptions.OpenPool, and entries that could not be placed. dst is
// written once the log is read, whatever the call returns.
func WithUploadResultsInto(dst *UploadResults) CallOption {
	return callOptionFunc(func(c *callConfig) { c.async.resultsInto = dst })
}

// checkOperationID accepts only canonical lowercase UUIDs, so the id sent is
// exactly the id later looked up.
func checkOperationID(id string) error {
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return fmt.Errorf("toloka: operation id %q is not a UUID in canonical lowercase form such as %q: make one with uuid.NewString()", id, "3f2504e0-4f89-41d3-9a0c-0305e82c3301")
	}
	return nil
}

// CreateTasksAsync starts an asynchronous upload of up to MaxAsyncBatch
// (10,000) tasks: POST /tasks?async_mode=true&operation_id=<uuid>. It returns
// the operation once Toloka has accepted the batch; wait for it with
// WaitOperation and read per-item outcomes with ReadUploadResults, or call
// CreateTasksAndWait to do all three.
//
// Exactly once: every call carries an operation_id — a fresh random UUID
// unless WithOperationID gives one — and every retry of the call resends the
// same request with the same id, so Toloka creates the batch once. When
// Toloka answers 409 OPERATION_ALREADY_EXISTS for that id, an earlier
// attempt got through: the call fetches that operation, checks it is a task
// upload, and returns it instead of failing. It is never sent again.
//
// Each task gets an extra "__item_idx" field (ItemIndexKey) holding its
// position, which Toloka ignores but echoes in the log; it is what maps log
// entries back to indexes. The tasks are validated first unless
// SkipValidation is given. CreateOptions apply as for CreateTasks; with
// SkipInvalidItems false (the default) one invalid task makes the whole
// operation FAIL and nothing is created.
//
// Sync or async: CreateTasks (sync) answers in one request with every item's
// outcome, holds at most 5,000 tasks, and cannot be retried safely once sent.
// The async calls take up to 10,000 tasks, are retried safely, and survive a
// lost connection or a crashed process (the operation id lets any process
// resume the wait), at the cost of polling: prefer them for large or
// important uploads, and sync for small interactive ones.
func (c *Client) CreateTasksAsync(ctx context.Context, tasks []Task, opts ...CallOption) (*Operation, error) {
	return createAsync(ctx, c, collectionTasks, tasks, newCallConfig(opts), opts)
}

// CreateTaskSuitesAsync starts an asynchronous upload of up to MaxAsyncBatch
// (10,000) task suites: POST /task-suites?async_mode=true&operation_id=<uuid>.
// It behaves as CreateTasksAsync does — same operation_id handling, exactly
// once, the same index markers and validation — for suites, whose
// operations have type TASK_SUITE.BATCH_CREATE.
func (c *Client) CreateTaskSuitesAsync(ctx context.Context, suites []TaskSuite, opts ...CallOption) (*Operation, error) {
	return createAsync(ctx, c, collectionTaskSuites, suites, newCallConfig(opts), opts)
}

// operationTypeOf is the operation type an async create of the collection makes.
func operationTypeOf(collection string) string {
	if collection == collectionTaskSuites {
		return OperationTaskSuiteBatchCreate
	}
	return OperationTaskBatchCreate
}

func createAsync[T any](ctx context.Context, c *Client, collection string, items []T, cfg *callConfig, opts []CallOption) (*Operation, error) {
	if len(items) == 0 {
		return nil, fmt.Errorf("toloka: no %s to create", collection)
	}
	if len(items) > MaxAsyncBatch {
		return nil, fmt.Errorf("toloka: %d %s in one async request; the SDK sends at most %d (Toloka's recommendation): split the batch, or use the bulk uploader", len(items), collection, MaxAsyncBatch)
	}
	id := cfg.async.operationID
	if id == "" {
		id = uuid.NewString()
	} else if err := checkOperationID(id); err != nil {
		return nil, err
	}
	if err := c.validateItems(ctx, collection, items, cfg); err != nil {
		return nil, err
	}
	body, err := encodeJSON(indexedItems[T](items))
	if err != nil {
		return nil, err
	}
	return c.postAsync(ctx, collection, body, len(items), id, cfg, opts)
}

// postAsync sends an encoded batch as one async create with operation id.
// The request is built once: a retry resends these very bytes with this
// operation_id, which is what makes the retry safe; a 409 for the id means
// an earlier attempt (or run) got through, and that operation is adopted.
func (c *Client) postAsync(ctx context.Context, collection string, body []byte, items int, id string, cfg *callConfig, opts []CallOption) (*Operation, error) {
	values, err := createQuery{AsyncMode: true, OperationID: id, CreateOptions: cfg.create}.values()
	if err != nil {
		return nil, fmt.Errorf("toloka: encoding query: %w", err)
	}
	r := &apiRequest{method: http.MethodPost, path: endpointOf(collection), query: values, body: body, retry: retrySafe}
	var raw json.RawMessage
	err = c.doJSON(ctx, r, &raw, opts)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Code == CodeOperationAlreadyExists {
		return c.adoptOperation(ctx, id, collection, items, apiErr, opts)
	}
	if err != nil && apiErr == nil {
		// No answer (network, ctx): the batch may have been accepted. The
		// id is what lets the caller find out without creating it twice.
		return nil, fmt.Errorf("toloka: POST /%s with operation_id %s: Toloka may have accepted the batch; call again with WithOperationID(%q), or WaitOperation, to find out without creating it twice: %w", r.path, id, id, err)
	}
	if err != nil {
		return nil, labelFieldErrors(err, collection)
	}
	var op Operation
	if err := json.Unmarshal(raw, &op); err != nil || (op.ID == "" && op.Status == "") {
		return nil, fmt.Errorf("toloka: POST /%s: the answer to an async create is not an operation (body %q)", r.path, excerpt(c.scrub(raw)))
	}
	if op.ID == "" {
		op.ID = id
	}
	return &op, nil
}

// adoptOperation carries on with the operation an earlier attempt created
// under id (toloka-api.md §2.4): it checks that the operation is an upload of
// the same kind and, when Toloka has counted them and items > 0, of as many
// items.
func (c *Client) adoptOperation(ctx context.Context, id, collection string, items int, conflict *APIError, opts []CallOption) (*Operation, error) {
	op, err := c.GetOperation(ctx, id, opts...)
	if err != nil {
		return nil, fmt.Errorf("toloka: operation %s already exists, but reading it failed: %w", id, err)
	}
	if want := operationTypeOf(collection); op.Type != want {
		return nil, fmt.Errorf("toloka: operation id %s already belongs to a %s operation, not a %s upload: use another id, or none for a fresh one: %w", id, op.Type, want, conflict)
	}
	if total := op.Counters().TotalCount; items > 0 && total > 0 && total != int64(items) {
		return nil, fmt.Errorf("toloka: operation id %s already belongs to an upload of %d %s, and this call has %d: use another id: %w", id, total, collection, items, conflict)
	}
	return op, nil
}

// indexedItems encodes items as a JSON array in which every object also
// carries its position under ItemIndexKey, without copying the slice or
// changing the caller's items.
type indexedItems[T any] []T

// MarshalJSON writes {"__item_idx":"<i>", ...item fields...} for each item.
func (items indexedItems[T]) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := range items {
		data, err := marshalJSON(items[i])
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		if len(data) < 2 || data[0] != '{' {
			return nil, fmt.Errorf("item %d does not encode as a JSON object", i)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"` + ItemIndexKey + `":"`)
		buf.WriteString(strconv.Itoa(i))
		buf.WriteByte('"')
		if data[1] != '}' {
			buf.WriteByte(',')
		}
		buf.Write(data[1:])
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// ErrIncompleteResults matches an *IncompleteResultsError.
const ErrIncompleteResults Error = "toloka: upload results incomplete"

// IncompleteResultsError is returned by the *AndWait calls when the upload
// succeeded but its log does not account for every item: some indexes have
// no entry, or entries could not be mapped to an index. Those items may have
// been created: check before sending them again (Results.Created holds
// what is known).
type IncompleteResultsError struct {
	// OperationID is the upload's operation.
	OperationID string
	// Results is what the log did say.
	Results *UploadResults
	// Missing are the request indexes the log says nothing about.
	Missing []int
}

// Error names the operation and the unaccounted items.
func (e *IncompleteResultsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "toloka: operation %s succeeded, but its log does not account for every item:", e.OperationID)
	if n := len(e.Missing); n > 0 {
		fmt.Fprintf(&b, " %d item(s) have no entry (first index %d);", n, e.Missing[0])
	}
	if n := len(e.Results.Unmatched); n > 0 {
		fmt.Fprintf(&b, " %d entr(ies) could not be placed (%s);", n, e.Results.Unmatched[0].Reason)
	}
	b.WriteString(" those items may have been created: check the pool before sending them again")
	return b.String()
}

// Is matches ErrIncompleteResults.
func (e *IncompleteResultsError) Is(target error) bool { return target == ErrIncompleteResults }

// CreateTasksAndWait uploads up to MaxAsyncBatch (10,000) tasks
// asynchronously, waits for the operation, reads its log, and returns the
// same result as the sync CreateTasks: created tasks and field errors, both
// keyed by request index. Retries are as safe as for CreateTasksAsync;
// WaitOptions and WithProgress tune the wait, and ctx bounds it all.
//
// The created tasks are the submitted ones with ID set from the log (they
// share InputValues and slices with them); server-set fields such as Created
// and RemainingOverlap are then zero. This avoids reading 10,000 tasks back.
// With WithReadBack the tasks are read back instead, full, with one
// GET /tasks request per pool and per 10,000 tasks.
//
// With SkipInvalidItems, invalid tasks are reported in the result and the
// rest are created; like the sync call, that is not an error (see
// result.Err). Without it (all or nothing, toloka-api.md §2.4) one invalid
// task makes the operation FAIL: the error is an *OperationError whose
// Results hold the field errors by index; errors.As finds a
// *ValidationError and errors.Is matches both ErrOperationFailed and
// ErrValidation. When the upload succeeded but the log leaves items
// unaccounted for, the error is an *IncompleteResultsError. Log entries about
// no single item (a POOL_OPEN step, say) are not part of the batch result:
// WithUploadResultsInto gets them.
func (c *Client) CreateTasksAndWait(ctx context.Context, tasks []Task, opts ...CallOption) (*TaskBatchResult, error) {
	return createAndWait(ctx, c, collectionTasks, tasks, itemAccess[Task]{
		setID: func(t *Task, id string) { t.ID = id },
		id:    func(t *Task) string { return t.ID },
		pool:  func(t *Task) string { return t.PoolID },
	}, opts)
}

// CreateTaskSuitesAndWait is CreateTasksAndWait for task suites: it uploads
// up to MaxAsyncBatch suites asynchronously, waits, and returns the suites
// created and the field errors by request index. Without WithReadBack the
// returned suites are the submitted ones with ID set; the ids of the tasks
// inside them, and other server-set fields, need WithReadBack.
func (c *Client) CreateTaskSuitesAndWait(ctx context.Context, suites []TaskSuite, opts ...CallOption) (*TaskSuiteBatchResult, error) {
	return createAndWait(ctx, c, collectionTaskSuites, suites, itemAccess[TaskSuite]{
		setID: func(s *TaskSuite, id string) { s.ID = id },
		id:    func(s *TaskSuite) string { return s.ID },
		pool:  func(s *TaskSuite) string { return s.PoolID },
	}, opts)
}

// itemAccess reaches the fields of a Task or TaskSuite the round trip needs.
type itemAccess[T any] struct {
	setID func(*T, string)
	id    func(*T) string
	pool  func(*T) string
}

func createAndWait[T any](ctx context.Context, c *Client, collection string, items []T, acc itemAccess[T], opts []CallOption) (*BatchResult[T], error) {
	cfg := newCallConfig(opts)
	send, pick, err := validateBatch(ctx, c, collection, items, cfg)
	if err != nil || len(send) == 0 {
		return pick.result(nil), err
	}
	sendCfg := *cfg
	sendCfg.skipValidation = true // done above
	op, err := createAsync(ctx, c, collection, send, &sendCfg, opts)
	if err != nil {
		return nil, err
	}
	id := op.ID
	_, err = c.waitOperation(ctx, id, op, cfg, opts)
	var opErr *OperationError
	if err != nil && !errors.As(err, &opErr) {
		return nil, err
	}
	results, logErr := c.ReadUploadResults(ctx, id, len(send), opts...)
	results = pick.uploadResults(results)
	if logErr == nil && cfg.async.resultsInto != nil {
		*cfg.async.resultsInto = *results
	}
	if opErr != nil {
		if logErr != nil {
			return nil, errors.Join(opErr, fmt.Errorf("toloka: reading the log of failed operation %s: %w", id, logErr))
		}
		opErr.Results = results
		return nil, opErr
	}
	if logErr != nil {
		return nil, fmt.Errorf("toloka: operation %s succeeded, but reading its log failed; read it again with ReadUploadResults(ctx, %q, %d) (its indexes count the %d items sent): %w", id, id, len(send), len(send), logErr)
	}
	if missing := results.MissingIndexes(len(items)); len(missing) > 0 || len(results.Unmatched) > 0 {
		return nil, &IncompleteResultsError{OperationID: id, Results: results, Missing: missing}
	}
	res := &BatchResult[T]{Items: make(map[int]T, len(results.Created)), ValidationErrors: results.ValidationErrors}
	if cfg.async.readBack {
		res.Items, err = readBack(ctx, c, collection, items, results.Created, acc, opts)
		if err != nil {
			return nil, err
		}
		return res, nil
	}
	for index, createdID := range results.Created {
		item := items[index]
		acc.setID(&item, createdID)
		res.Items[index] = item
	}
	return res, nil
}

// readBackLimit is the page size of the read-back. Toloka's overview gives
// 300 as the maximum of limit, toloka-kit's docs 100,000 (toloka-api.md
// §15.1); the SDK asks for a page the size of a whole async batch and falls
// back to 300 if Toloka refuses it.
const (
	readBackLimit         = MaxAsyncBatch
	readBackFallbackLimit = 300
)

// readBack fetches the created objects pool by pool with
// GET /<collection>?pool_id=&id_gte=&id_lte=&sort=id&limit=, paging by id_gt
// (toloka-api.md §15.4). Ids sort as strings, so one id range per pool
// covers the batch; objects of other uploads inside the range are skipped,
// and paging stops as soon as every created id is found.
func readBack[T any](ctx context.Context, c *Client, collection string, items []T, created map[int]string, acc itemAccess[T], opts []CallOption) (map[int]T, error) {
	byPool := map[string]map[string]int{}
	for index, id := range created {
		pool := acc.pool(&items[index])
		if byPool[pool] == nil {
			byPool[pool] = map[string]int{}
		}
		byPool[pool][id] = index
	}
	out := make(map[int]T, len(created))
	limit := readBackLimit
	for pool, want := range byPool {
		ids := make([]string, 0, len(want))
		for id := range want {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		q := url.Values{"pool_id": {pool}, "sort": {"id"}, "id_gte": {ids[0]}, "id_lte": {ids[len(ids)-1]}}
		for len(want) > 0 {
			q.Set("limit", strconv.Itoa(limit))
			var page struct {
				Items   []T  `json:"items"`
				HasMore bool `json:"has_more"`
			}
			r := &apiRequest{method: http.MethodGet, path: endpointOf(collection), query: q, retry: retrySafe}
			err := c.doJSON(ctx, r, &page, opts)
			if err != nil && limit > readBackFallbackLimit && errors.Is(err, ErrValidation) {
				limit = readBackFallbackLimit
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("toloka: reading back the created %s of pool %s: %w", collection, pool, err)
			}
			for i := range page.Items {
				if index, ok := want[acc.id(&page.Items[i])]; ok {
					out[index] = page.Items[i]
					delete(want, acc.id(&page.Items[i]))
				}
			}
			if !page.HasMore || len(page.Items) == 0 {
				break
			}
			q.Del("id_gte")
			q.Set("id_gt", acc.id(&page.Items[len(page.Items)-1]))
		}
		if len(want) > 0 {
			return nil, fmt.Errorf("toloka: reading back the created %s of pool %s: %d of them were not found", collection, pool, len(want))
		}
	}
	return out, nil
}
