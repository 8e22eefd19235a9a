package toloka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Upload defaults and bounds.
const (
	// DefaultUploadBatchSize is the most items one batch request carries
	// unless WithBatchSize says otherwise.
	DefaultUploadBatchSize = 5000
	// MaxUploadBatchSize is the most items the uploader puts in one async
	// request: Toloka documents no hard cap, and toloka-kit recommends at
	// most 10,000 (toloka-api.md §2.5, §3.3).
	MaxUploadBatchSize = 10_000
	// DefaultUploadConcurrency is how many batches are in flight at once
	// unless WithConcurrency says otherwise.
	DefaultUploadConcurrency = 4
	// maxFailedBatchesKept bounds UploadSummary.FailedBatches.
	maxFailedBatchesKept = 100
)

// uploadNamespace is the UUID namespace of batch operation ids: the v5 UUID
// of "https://github.com/gotoloka/toloka/upload" in the URL namespace. It
// must never change, or reruns of older uploads would create duplicates.
const uploadNamespace = "79a89161-861f-51fb-b939-6fd90cd111a3"

// ItemStatus is the final outcome of one input item of an upload.
type ItemStatus int

// Item outcomes.
const (
	// ItemCreated: Toloka created the item; ItemResult.ID is its id.
	ItemCreated ItemStatus = iota + 1
	// ItemRejected: the item is invalid and was not created, by the SDK's
	// checks (never sent) or by Toloka's; ItemResult.Errors say why. Sending
	// it again unchanged cannot succeed.
	ItemRejected
	// ItemFailed: the item's batch failed (network, server, cancellation),
	// so it may or may not have been created; ItemResult.Err says why.
	// Rerunning the upload with the same upload id settles it without
	// creating anything twice.
	ItemFailed
)

// String returns "created", "rejected" or "failed".
func (s ItemStatus) String() string {
	switch s {
	case ItemCreated:
		return "created"
	case ItemRejected:
		return "rejected"
	case ItemFailed:
		return "failed"
	}
	return "ItemStatus(" + strconv.Itoa(int(s)) + ")"
}

// ItemResult is the outcome of one input item.
type ItemResult struct {
	// Index is the item's position in the source, from 0.
	Index int64
	// Status is the outcome.
	Status ItemStatus
	// ID is the created task's or suite's id (ItemCreated).
	ID string
	// Errors say why the item was rejected (ItemRejected); their Index is
	// the item's Index.
	Errors []FieldError
	// Err is why the item's batch failed (ItemFailed).
	Err error
	// Batch is the ordinal of the item's batch, or -1 for an item rejected
	// before batching (unreadable, not encodable, or over a byte budget alone).
	Batch int
	// OperationID is the batch's operation id, "" when Batch is -1.
	OperationID string
}

// FailedBatch describes a batch whose request failed.
type FailedBatch struct {
	// Ordinal is the batch's position in the upload, from 0.
	Ordinal int
	// OperationID is the batch's operation id; GetOperation reads it.
	OperationID string
	// FirstIndex and LastIndex bound the input indexes of its items.
	FirstIndex, LastIndex int64
	// Items is how many items the batch carried.
	Items int
	// Err is the failure.
	Err error
}

// UploadSummary is the totals of an upload. Read = Created + Rejected +
// Failed once every batch has finished.
type UploadSummary struct {
	// UploadID identifies the upload; rerun with WithUploadID(UploadID) to
	// resume it.
	UploadID string
	// Read, Sent, Created, Rejected and Failed count items as in UploadProgress.
	Read, Sent, Created, Rejected, Failed int64
	// Batches counts the batches formed.
	Batches int
	// FailedBatches lists the first 100 failed batches, by completion order;
	// FailedBatchCount counts all of them.
	FailedBatches    []FailedBatch
	FailedBatchCount int
	// LogEntries lists the first 100 operation log entries about no single
	// item, such as a failed POOL_OPEN when CreateOptions.OpenPool is set;
	// LogEntryCount counts all of them.
	LogEntries    []OperationLogEntry
	LogEntryCount int
	// Duration is how long the upload took.
	Duration time.Duration
}

// ErrUploadIncomplete is matched (errors.Is) by the error of an upload that
// left items neither created nor rejected.
const ErrUploadIncomplete Error = "toloka: upload incomplete"

// UploadError is the error of an upload that did not settle every item: some
// batches failed, or the upload stopped early (StopOnError, a cancelled
// context, a read error of the source). Items already created stay created.
// Rerun the upload with WithUploadID(UploadID) and the same input and
// options: batches whose operations exist are picked up, not created again.
type UploadError struct {
	// UploadID is the id to resume with.
	UploadID string
	// FailedBatches and FailedItems count what failed.
	FailedBatches int
	FailedItems   int64
	// Stopped is set when the upload ended before reading all its input.
	Stopped bool
	// Err is the first cause: a batch's error, the context's error or the
	// source's read error.
	Err error
}

// Error says what failed and how to resume.
func (e *UploadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "toloka: upload %s incomplete", e.UploadID)
	if e.FailedBatches > 0 {
		fmt.Fprintf(&b, ": %d batch(es) with %d item(s) failed", e.FailedBatches, e.FailedItems)
	}
	if e.Stopped {
		b.WriteString(": stopped before the end of the input")
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	fmt.Fprintf(&b, "; rerun with WithUploadID(%q) and the same input and options to resume", e.UploadID)
	return b.String()
}

// Unwrap returns the first cause.
func (e *UploadError) Unwrap() error { return e.Err }

// Is matches ErrUploadIncomplete.
func (e *UploadError) Is(target error) bool { return target == ErrUploadIncomplete }

// UploadOption configures UploadTasks and UploadTaskSuites.
type UploadOption func(*uploadConfig)

type uploadConfig struct {
	uploadID          string
	batchSize         int
	concurrency       int
	requestsPerSecond int
	perMinute         int64
	perDay            int64
	quotaSet          bool
	stopOnError       bool
	onResult          func(ItemResult)
	onProgress        func(UploadProgress)
	callOpts          []CallOption
	clock             clock
	runner            batchRunner // tests; nil means the async create calls
	err               error
}

// WithUploadID names the upload. Batch operation ids derive from it, so a
// rerun with the same id, input and options recreates nothing that exists.
// Without it the upload gets a random id, reported in UploadSummary.UploadID.
func WithUploadID(id string) UploadOption {
	return func(c *uploadConfig) {
		if strings.TrimSpace(id) == "" {
			c.err = errors.New("toloka: WithUploadID needs a non-empty id")
		}
		c.uploadID = id
	}
}

// WithBatchSize sets the most items per batch request, 1 to
// MaxUploadBatchSize (default DefaultUploadBatchSize). Batches also close
// before they would exceed Toloka's per-request byte budgets. Batching
// depends on it: resume with the same value.
func WithBatchSize(n int) UploadOption {
	return func(c *uploadConfig) {
		if n < 1 || n > MaxUploadBatchSize {
			c.err = fmt.Errorf("toloka: WithBatchSize(%d): use 1 to %d", n, MaxUploadBatchSize)
		}
		c.batchSize = n
	}
}

// WithConcurrency sets how many batches are in flight at once (default
// DefaultUploadConcurrency). The source is read only when a batch can start,
// so memory is bounded by n batches whatever the input's size.
func WithConcurrency(n int) UploadOption {
	return func(c *uploadConfig) {
		if n < 1 {
			c.err = fmt.Errorf("toloka: WithConcurrency(%d): use 1 or more", n)
		}
		c.concurrency = n
	}
}

// WithItemQuota sets the creation quota the upload stays under: items per
// minute and per day; 0 or less turns a limit off. The defaults are
// Toloka's documented quotas (DefaultTasksPerMinute/PerDay for tasks,
// DefaultTaskSuitesPerMinute/PerDay for suites). Quota is booked per batch
// before it is sent; the batch size must not exceed a limit.
func WithItemQuota(perMinute, perDay int64) UploadOption {
	return func(c *uploadConfig) {
		c.perMinute, c.perDay, c.quotaSet = perMinute, perDay, true
	}
}

// WithRequestRate caps batch requests per second (default
// DefaultRequestsPerSecond, Toloka's global ceiling); 0 or less turns the cap
// off. Polls and log reads are paced by the client's own limits, not here.
func WithRequestRate(perSecond int) UploadOption {
	return func(c *uploadConfig) { c.requestsPerSecond = perSecond }
}

// StopOnError stops reading the input after the first failed batch; the
// batches in flight finish. Without it the upload goes on and reports the
// failed batches at the end.
func StopOnError() UploadOption {
	return func(c *uploadConfig) { c.stopOnError = true }
}

// OnResult receives the outcome of every input item as its batch finishes,
// so results are never all held in memory. Calls come one at a time, in
// completion order (not input order); a slow callback slows the upload.
func OnResult(fn func(ItemResult)) UploadOption {
	return func(c *uploadConfig) { c.onResult = fn }
}

// OnProgress receives a snapshot after every batch and a last one with Done
// set. Calls come one at a time. NewProgressBar makes one for terminals.
func OnProgress(fn func(UploadProgress)) UploadOption {
	return func(c *uploadConfig) { c.onProgress = fn }
}

// WithCallOptions passes options to every batch's create call and
// validation, such as CreateOptions{AllowDefaults: true} or SkipValidation().
// Uploads always send skip_invalid_items=true: results are per item anyway,
// and an all-or-nothing batch would fail thousands of valid items for one bad
// one, for good, since its operation id is fixed.
func WithCallOptions(opts ...CallOption) UploadOption {
	return func(c *uploadConfig) { c.callOpts = append(c.callOpts, opts...) }
}

// UploadClock is the time an upload's pacing runs on; see WithUploadClock.
type UploadClock interface {
	// Now returns the clock's current time.
	Now() time.Time
	// SleepUntil returns when the clock reaches t, or with ctx's error when
	// ctx is done first.
	SleepUntil(ctx context.Context, t time.Time) error
}

// WithUploadClock runs the upload's pacing (WithItemQuota, WithRequestRate),
// UploadSummary.Duration and UploadProgress on clk instead of the wall clock.
// It is meant for tests and benchmarks only: for example a clock running
// faster than real time, to match a fake server whose quotas are on a scaled
// clock (tolokatest.ScaledClock), or a fake clock that never sleeps. Retries
// and operation polling still use real time. A nil clk is ignored.
func WithUploadClock(clk UploadClock) UploadOption {
	return func(c *uploadConfig) {
		if clk != nil {
			c.clock = clk
		}
	}
}

// withClock and withRunner replace time and the network in tests.
func withClock(clk clock) UploadOption { return func(c *uploadConfig) { c.clock = clk } }

func withRunner(r batchRunner) UploadOption { return func(c *uploadConfig) { c.runner = r } }

// UploadTasks uploads tasks of any number from src in async batches and
// reports every task's outcome by its position in src.
//
// Batches hold at most WithBatchSize tasks (default 5,000) and close before
// the tasks' input_values would pass 1 MiB or their output_values 4 MiB per
// request (toloka-api.md §2.5); a task that alone exceeds a budget is
// rejected and never sent. Each batch is validated like CreateTasks (unless
// SkipValidation is passed with WithCallOptions); invalid tasks are rejected
// and left out. Up to WithConcurrency batches (default 4) are in flight; the
// source is read only when one can start, so memory stays flat. Batches are
// paced under 300 requests/s and the task quota of 200,000 per minute and
// 4,000,000 per day (toloka-api.md §17.4), booked before sending.
//
// Exactly once: each batch's operation_id is a UUID derived from the upload
// id and the batch's ordinal, and batching is a pure function of the input
// and the options. Retries of a batch, and reruns of the upload with the
// same WithUploadID, input and options, find the batch's existing operation
// and report its results instead of creating the tasks again. To resume
// after a crash or an *UploadError, run the same call again with
// WithUploadID(summary.UploadID).
//
// The error is nil when every task was created or rejected; rejected tasks
// are not an error (see OnResult). Otherwise it is an *UploadError, and the
// summary, never nil once the upload started, has the totals so far.
func (c *Client) UploadTasks(ctx context.Context, src TaskSource, opts ...UploadOption) (*UploadSummary, error) {
	return upload(ctx, c, collectionTasks, src, Task.MarshalJSON, DefaultTasksPerMinute, DefaultTasksPerDay, opts)
}

// UploadTaskSuites uploads task suites of any number from src in async
// batches, as UploadTasks does for tasks; the default quota is 100,000 suites
// per minute and 2,000,000 per day (toloka-api.md §17.4).
func (c *Client) UploadTaskSuites(ctx context.Context, src TaskSuiteSource, opts ...UploadOption) (*UploadSummary, error) {
	return upload(ctx, c, collectionTaskSuites, src, TaskSuite.MarshalJSON, DefaultTaskSuitesPerMinute, DefaultTaskSuitesPerDay, opts)
}

// operationIDFor derives a batch's operation id: a v5 UUID of the upload
// id, the collection and the ordinal, so tasks and suites uploads with the
// same id never share an operation.
func operationIDFor(uploadID, collection string, ordinal int) string {
	return uuid.NewSHA1(uuid.MustParse(uploadNamespace), []byte(uploadID+"\x00"+collection+"\x00"+strconv.Itoa(ordinal))).String()
}

// uploader is the state of one upload. mu guards the counters and
// serializes the callbacks.
type uploader[T Task | TaskSuite] struct {
	c          *Client
	collection string
	cfg        uploadConfig
	call       *callConfig
	run        batchRunner
	pace       *pacer
	start      time.Time
	total      int64

	read atomic.Int64 // items taken from the source; only dispatch writes it

	mu       sync.Mutex
	sum      UploadSummary
	finished int
	firstErr error
	stopOnce sync.Once
	stop     chan struct{}

	freeBatches chan *uploadBatch
	freeItems   chan []T
}

func upload[T Task | TaskSuite](ctx context.Context, c *Client, collection string, src Source[T], encode func(T) ([]byte, error), perMinute, perDay int64, opts []UploadOption) (*UploadSummary, error) {
	cfg := uploadConfig{
		batchSize:         DefaultUploadBatchSize,
		concurrency:       DefaultUploadConcurrency,
		requestsPerSecond: DefaultRequestsPerSecond,
		perMinute:         perMinute,
		perDay:            perDay,
		clock:             realClock{},
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	if src.open == nil {
		return nil, fmt.Errorf("toloka: empty source: build it with %s", map[string]string{collectionTasks: "TasksFromSlice, TasksFromSeq or TasksFromJSONL", collectionTaskSuites: "TaskSuitesFromSlice, TaskSuitesFromSeq or TaskSuitesFromJSONL"}[collection])
	}
	if cfg.uploadID == "" {
		cfg.uploadID = uuid.NewString()
	}
	u := &uploader[T]{c: c, collection: collection, cfg: cfg, total: src.total, stop: make(chan struct{}),
		freeBatches: make(chan *uploadBatch, cfg.concurrency+1), freeItems: make(chan []T, cfg.concurrency+1)}
	u.call = newCallConfig(cfg.callOpts)
	u.call.create.SkipInvalidItems = true
	u.start = cfg.clock.Now()
	var err error
	if u.pace, err = newPacer(u.start, cfg.requestsPerSecond, cfg.perMinute, cfg.perDay, cfg.batchSize); err != nil {
		return nil, err
	}
	u.run = cfg.runner
	if u.run == nil {
		u.run = c.uploadRunner(collection, u.call, cfg.callOpts)
	}
	u.sum.UploadID = cfg.uploadID

	p := src.open()
	defer p.stop()
	stopped := u.dispatch(ctx, p, encode)
	if err := p.err(); err != nil {
		u.fail(err)
		stopped = true
	}

	u.mu.Lock()
	defer u.mu.Unlock()
	u.sum.Read = u.read.Load()
	u.sum.Duration = cfg.clock.Now().Sub(u.start)
	u.progressLocked(true)
	sum := u.sum
	if sum.FailedBatchCount == 0 && !stopped && u.firstErr == nil {
		return &sum, nil
	}
	return &sum, &UploadError{UploadID: sum.UploadID, FailedBatches: sum.FailedBatchCount, FailedItems: sum.Failed, Stopped: stopped, Err: u.firstErr}
}

// dispatch reads the source into batches and starts a worker for each,
// taking a worker slot before reading, which is the backpressure. It returns
// whether it stopped before the end of the input.
func (u *uploader[T]) dispatch(ctx context.Context, p puller[T], encode func(T) ([]byte, error)) (stopped bool) {
	slots := make(chan struct{}, u.cfg.concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()

	type carried struct {
		index   int64
		item    T
		encoded []byte
		in, out int
	}
	var (
		carry *carried
		eof   bool
		// Decoded items are kept only for validation.
		keepItems = !u.call.skipValidation
	)
	// An item already read but held back for the next batch must not vanish
	// when the upload stops before that batch exists.
	defer func() {
		if carry != nil {
			u.failUnsent(ctx, carry.index)
		}
	}()
	for ordinal := 0; ; ordinal++ {
		if ctx.Err() != nil {
			u.fail(ctx.Err())
			return true
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			u.fail(ctx.Err())
			return true
		case <-u.stop:
			return true
		}
		// A slot is free: check again, so a stop that raced the slot wins.
		select {
		case <-u.stop:
			<-slots
			return true
		default:
		}
		b := u.newBatch(ordinal)
		var items []T
		if keepItems {
			items = u.newItems()
		}
		if carry != nil {
			b.add(carry.index, carry.encoded, carry.in, carry.out)
			if keepItems {
				items = append(items, carry.item)
			}
			carry = nil
		}
		for !eof && b.Len() < u.cfg.batchSize {
			if ctx.Err() != nil {
				break
			}
			item, bad, ok := p.next()
			if !ok {
				eof = true
				break
			}
			index := u.read.Add(1) - 1
			if bad != nil {
				u.rejectUnbatched(index, *bad)
				continue
			}
			encoded, err := encode(item)
			if err != nil {
				u.rejectUnbatched(index, FieldError{Code: CodeNotEncodable, Message: fmt.Sprintf("cannot be encoded as JSON: %v; check the types of its values", err)})
				continue
			}
			in, out, err := valueSizes(encoded)
			if err != nil {
				u.rejectUnbatched(index, FieldError{Code: CodeNotEncodable, Message: err.Error()})
				continue
			}
			if fe, tooBig := u.oversize(in, out); tooBig {
				u.rejectUnbatched(index, fe)
				continue
			}
			if !b.fits(u.cfg.batchSize, in, out) {
				carry = &carried{index: index, item: item, encoded: encoded, in: in, out: out}
				break
			}
			b.add(index, encoded, in, out)
			if keepItems {
				items = append(items, item)
			}
		}
		if b.Len() == 0 {
			u.recycle(b, items)
			<-slots
			if ctx.Err() != nil {
				u.fail(ctx.Err())
				return true
			}
			return false
		}
		b.finish()
		b.OperationID = operationIDFor(u.cfg.uploadID, u.collection, ordinal)
		u.counted(func(s *UploadSummary) { s.Batches++ })
		job := &batchJob[T]{batch: b, items: items}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			u.work(ctx, job)
			u.recycle(job.batch, nil)
		}()
	}
}

// newBatch returns an empty batch, reusing a finished one's buffers: at most
// concurrency+1 batches and item slices exist at once, whatever the input's size.
func (u *uploader[T]) newBatch(ordinal int) *uploadBatch {
	select {
	case b := <-u.freeBatches:
		*b = uploadBatch{Ordinal: ordinal, Body: b.Body[:0], Indexes: b.Indexes[:0], ends: b.ends[:0]}
		return b
	default:
		return &uploadBatch{Ordinal: ordinal}
	}
}

func (u *uploader[T]) newItems() []T {
	select {
	case items := <-u.freeItems:
		return items
	default:
		return make([]T, 0, u.cfg.batchSize)
	}
}

// recycle takes back a finished batch and a validated item slice (either
// may be nil). The items are zeroed first, so the caller's data is not kept
// alive by the uploader.
func (u *uploader[T]) recycle(b *uploadBatch, items []T) {
	if b != nil {
		select {
		case u.freeBatches <- b:
		default:
		}
	}
	if items != nil {
		clear(items)
		select {
		case u.freeItems <- items[:0]:
		default:
		}
	}
}

// oversize rejects an item that alone exceeds a per-request budget; no
// batching can send it (toloka-api.md §2.5).
func (u *uploader[T]) oversize(in, out int) (FieldError, bool) {
	what := "task"
	if u.collection == collectionTaskSuites {
		what = "task suite"
	}
	switch {
	case in > MaxInputValuesBytes:
		return FieldError{Field: "input_values", Code: CodeObjectSizeTooLarge, Params: []any{MaxInputValuesBytes},
			Message: fmt.Sprintf("the input_values of this %s take %d bytes and one request carries at most %d: put large data behind a URL", what, in, MaxInputValuesBytes)}, true
	case out > MaxOutputValuesBytes:
		return FieldError{Field: "output_values", Code: CodeObjectSizeTooLarge, Params: []any{MaxOutputValuesBytes},
			Message: fmt.Sprintf("the output_values of this %s's solutions take %d bytes and one request carries at most %d: shorten the known or baseline solutions", what, out, MaxOutputValuesBytes)}, true
	}
	return FieldError{}, false
}

// batchJob is a batch and its decoded items, which only validation needs.
type batchJob[T any] struct {
	batch *uploadBatch
	items []T
}

// work validates, paces and sends one batch, then reports its items.
func (u *uploader[T]) work(ctx context.Context, job *batchJob[T]) {
	b := job.batch
	rejected, err := u.validate(ctx, b, job.items)
	u.recycle(nil, job.items) // the decoded items are not needed during the long wait
	job.items = nil
	if err != nil {
		u.batchFailed(b, err)
		return
	}
	if len(rejected) > 0 {
		u.mu.Lock()
		for _, r := range rejected {
			u.sum.Rejected++
			u.emitLocked(r)
		}
		u.mu.Unlock()
		b.keep(func(pos int) bool { return !isRejected(rejected, b.Indexes[pos]) })
	}
	if b.Len() == 0 {
		u.batchDone(b, false)
		return
	}
	at := u.pace.reserve(u.cfg.clock.Now(), b.Len())
	if err := u.cfg.clock.SleepUntil(ctx, at); err != nil {
		u.batchFailed(b, err)
		return
	}
	u.counted(func(s *UploadSummary) { s.Sent += int64(b.Len()) })
	out, err := u.run(ctx, b)
	if err == nil && len(out.IDs) != b.Len() {
		err = fmt.Errorf("toloka: batch %d: the operation reported %d outcomes for %d items", b.Ordinal, len(out.IDs), b.Len())
	}
	if err != nil {
		u.batchFailed(b, err)
		return
	}
	u.report(b, out)
}

// isRejected reports whether index is among the rejected results, which are
// in ascending index order.
func isRejected(rejected []ItemResult, index int64) bool {
	lo, hi := 0, len(rejected)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if rejected[mid].Index < index {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo < len(rejected) && rejected[lo].Index == index
}

// validate runs the create calls' checks on the batch. Item errors reject
// their items (returned in index order); an error about the request as a
// whole, or a failed lookup, fails the batch.
func (u *uploader[T]) validate(ctx context.Context, b *uploadBatch, items []T) ([]ItemResult, error) {
	err := u.c.validateItems(ctx, u.collection, items, u.call)
	if err == nil {
		return nil, nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return nil, err
	}
	byPos := map[int][]FieldError{}
	for _, fe := range ve.Errors {
		if fe.Index < 0 || fe.Index >= b.Len() {
			return nil, err // about the request, not an item: nothing to drop
		}
		pos := fe.Index
		fe.Index = int(b.Indexes[pos])
		fe.Collection = u.collection
		byPos[pos] = append(byPos[pos], fe)
	}
	out := make([]ItemResult, 0, len(byPos))
	for _, pos := range sortedKeys(byPos) {
		out = append(out, ItemResult{Index: b.Indexes[pos], Status: ItemRejected, Errors: byPos[pos], Batch: b.Ordinal, OperationID: b.OperationID})
	}
	return out, nil
}

// report delivers a finished batch's outcomes.
func (u *uploader[T]) report(b *uploadBatch, out batchOutcome) {
	u.mu.Lock()
	u.sum.LogEntryCount += out.OtherCount
	if room := maxFailedBatchesKept - len(u.sum.LogEntries); room > 0 {
		u.sum.LogEntries = append(u.sum.LogEntries, out.Other[:min(room, len(out.Other))]...)
	}
	u.mu.Unlock()
	errs := make(map[int][]FieldError, len(out.Errors))
	for _, fe := range out.Errors {
		if fe.Index >= 0 && fe.Index < b.Len() {
			pos := fe.Index
			fe.Index = int(b.Indexes[pos])
			fe.Collection = u.collection
			errs[pos] = append(errs[pos], fe)
		}
	}
	u.mu.Lock()
	for pos, index := range b.Indexes {
		r := ItemResult{Index: index, Batch: b.Ordinal, OperationID: b.OperationID}
		switch {
		case out.IDs[pos] != "":
			r.Status, r.ID = ItemCreated, out.IDs[pos]
			u.sum.Created++
		case len(errs[pos]) > 0:
			r.Status, r.Errors = ItemRejected, errs[pos]
			u.sum.Rejected++
		default:
			r.Status = ItemFailed
			r.Err = fmt.Errorf("toloka: operation %s reported no outcome for %s[%d]", b.OperationID, u.collection, index)
			u.sum.Failed++
			u.firstErrLocked(r.Err)
		}
		u.emitLocked(r)
	}
	u.mu.Unlock()
	u.batchDone(b, false)
}

// batchFailed reports every item of the batch as failed with err.
func (u *uploader[T]) batchFailed(b *uploadBatch, err error) {
	err = fmt.Errorf("toloka: batch %d (operation %s): %w", b.Ordinal, b.OperationID, err)
	u.mu.Lock()
	for _, index := range b.Indexes {
		u.sum.Failed++
		u.emitLocked(ItemResult{Index: index, Status: ItemFailed, Err: err, Batch: b.Ordinal, OperationID: b.OperationID})
	}
	u.sum.FailedBatchCount++
	if len(u.sum.FailedBatches) < maxFailedBatchesKept {
		fb := FailedBatch{Ordinal: b.Ordinal, OperationID: b.OperationID, Items: b.Len(), Err: err}
		if b.Len() > 0 {
			fb.FirstIndex, fb.LastIndex = b.Indexes[0], b.Indexes[b.Len()-1]
		}
		u.sum.FailedBatches = append(u.sum.FailedBatches, fb)
	}
	u.firstErrLocked(err)
	u.mu.Unlock()
	u.batchDone(b, true)
	if u.cfg.stopOnError {
		u.stopOnce.Do(func() { close(u.stop) })
	}
}

func (u *uploader[T]) batchDone(_ *uploadBatch, _ bool) {
	u.mu.Lock()
	u.finished++
	u.progressLocked(false)
	u.mu.Unlock()
}

// fail records an error that stops the upload.
func (u *uploader[T]) fail(err error) {
	u.mu.Lock()
	u.firstErrLocked(err)
	u.mu.Unlock()
}

func (u *uploader[T]) firstErrLocked(err error) {
	if u.firstErr == nil {
		u.firstErr = err
	}
}

// rejectUnbatched reports an item rejected before it joined a batch.
func (u *uploader[T]) rejectUnbatched(index int64, fe FieldError) {
	fe.Index, fe.Collection = int(index), u.collection
	u.mu.Lock()
	u.sum.Rejected++
	u.emitLocked(ItemResult{Index: index, Status: ItemRejected, Errors: []FieldError{fe}, Batch: -1})
	u.mu.Unlock()
}

// failUnsent reports an item that was read but never sent because the
// upload stopped (ctx done, or StopOnError after a failed batch).
func (u *uploader[T]) failUnsent(ctx context.Context, index int64) {
	err := ctx.Err()
	if err == nil {
		err = errors.New("toloka: the upload stopped after a failed batch (StopOnError) before this item was sent")
	}
	u.mu.Lock()
	u.sum.Failed++
	u.emitLocked(ItemResult{Index: index, Status: ItemFailed, Err: err, Batch: -1})
	u.firstErrLocked(err)
	u.mu.Unlock()
}

func (u *uploader[T]) counted(f func(*UploadSummary)) {
	u.mu.Lock()
	f(&u.sum)
	u.mu.Unlock()
}

func (u *uploader[T]) emitLocked(r ItemResult) {
	if u.cfg.onResult != nil {
		u.cfg.onResult(r)
	}
}

func (u *uploader[T]) progressLocked(done bool) {
	if u.cfg.onProgress == nil {
		return
	}
	elapsed := u.cfg.clock.Now().Sub(u.start)
	u.sum.Read = u.read.Load()
	p := UploadProgress{
		UploadID: u.cfg.uploadID, Total: u.total, Read: u.sum.Read, Sent: u.sum.Sent,
		Created: u.sum.Created, Rejected: u.sum.Rejected, Failed: u.sum.Failed,
		Batches: u.finished, FailedBatches: u.sum.FailedBatchCount,
		Elapsed: elapsed, Done: done,
	}
	if elapsed > 0 {
		p.ItemsPerSecond = float64(p.Finished()) / elapsed.Seconds()
	}
	u.cfg.onProgress(p)
}
