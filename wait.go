package toloka

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ErrOperationFailed matches an *OperationError: an operation that ended in
// status FAIL.
const ErrOperationFailed Error = "toloka: operation failed"

// Polling defaults. The first two are the official SDKs' (toloka-api.md
// §6.3); the cap keeps a long operation from costing one request a second.
const (
	DefaultFirstPollDelay  = 500 * time.Millisecond
	DefaultPollInterval    = time.Second
	DefaultMaxPollInterval = 10 * time.Second
)

// WaitOptions tune how WaitOperation and the *AndWait calls poll an
// operation. Pass it as a CallOption; a zero field takes its default, and a
// later WaitOptions replaces an earlier one as a whole.
//
// Polls start like the official SDKs — the first after FirstDelay, then
// every Interval — and back off for long operations: the pause is a tenth
// of the time already waited, never below Interval nor above MaxInterval. So
// a 30-second upload is polled about every second, and a one-hour one every
// 10 seconds, and the answer comes at most ~10% later than the operation
// finishes.
type WaitOptions struct {
	// FirstDelay is the pause before the first poll of an operation that was
	// just created; default 500 ms.
	FirstDelay time.Duration
	// Interval is the shortest pause between polls; default 1 s.
	Interval time.Duration
	// MaxInterval caps the pause between polls; default 10 s.
	MaxInterval time.Duration
	// Timeout bounds the wait alone (not the upload before it); 0 leaves it
	// to ctx. The official SDKs give up after 10 minutes.
	Timeout time.Duration
}

func (w WaitOptions) applyCall(c *callConfig) {
	progress := c.async.wait.progress
	c.async.wait = waitConfig{WaitOptions: w, progress: progress, sleep: c.async.wait.sleep}
}

func (w WaitOptions) withDefaults() WaitOptions {
	if w.FirstDelay <= 0 {
		w.FirstDelay = DefaultFirstPollDelay
	}
	if w.Interval <= 0 {
		w.Interval = DefaultPollInterval
	}
	if w.MaxInterval <= 0 {
		w.MaxInterval = DefaultMaxPollInterval
	}
	if w.MaxInterval < w.Interval {
		w.MaxInterval = w.Interval
	}
	return w
}

// next returns the pause after having waited for waited in total.
func (w WaitOptions) next(waited time.Duration) time.Duration {
	return min(max(waited/10, w.Interval), w.MaxInterval)
}

// OperationProgress is what a progress callback hears after each poll.
type OperationProgress struct {
	// ID, Type and Status are the operation's.
	ID, Type, Status string
	// Percent is Toloka's progress, 0 to 100 (0 when it sent none).
	Percent int
	// Counters are the upload counters of the operation's details; zero until
	// Toloka fills them, usually at the end.
	Counters OperationCounters
	// Polls counts the GET /operations/{id} requests so far.
	Polls int
	// Waited is the time spent pausing between polls so far.
	Waited time.Duration
}

// WithProgress calls fn with the operation's state each time it is read
// while waiting, including the last, terminal, read. fn runs on the calling
// goroutine and delays the next poll while it runs.
func WithProgress(fn func(OperationProgress)) CallOption {
	return callOptionFunc(func(c *callConfig) { c.async.wait.progress = fn })
}

// waitConfig is the resolved wait part of a callConfig.
type waitConfig struct {
	WaitOptions
	progress func(OperationProgress)
	// sleep pauses for d or until ctx is done; tests replace it so they
	// never sleep.
	sleep func(ctx context.Context, d time.Duration) error
}

// withSleeper replaces the pause between polls (tests only).
func withSleeper(sleep func(ctx context.Context, d time.Duration) error) CallOption {
	return callOptionFunc(func(c *callConfig) { c.async.wait.sleep = sleep })
}

// OperationError is the error of an operation that ended in status FAIL. It
// matches ErrOperationFailed. When the failure is known item by item (the
// *AndWait calls read the log), Results holds the per-index outcome and
// errors.As finds a *ValidationError listing every rejected item; errors.Is
// then matches ErrValidation too.
//
// A failed upload may still have created items: check Results.Created
// before sending the same items again.
type OperationError struct {
	// Operation is the failed operation as last read.
	Operation *Operation
	// Results is what the operation's log says per item; nil when it was
	// not read (WaitOperation does not read logs).
	Results *UploadResults
}

// Error names the operation, its counters and the first item problems.
func (e *OperationError) Error() string {
	var b strings.Builder
	op := e.Operation
	fmt.Fprintf(&b, "toloka: operation %s (%s) failed", op.ID, op.Type)
	if n := op.Counters(); n != (OperationCounters{}) {
		fmt.Fprintf(&b, " (total %d, valid %d, not valid %d, succeeded %d, failed %d)",
			n.TotalCount, n.ValidCount, n.NotValidCount, n.SuccessCount, n.FailedCount)
	}
	if e.Results == nil {
		fmt.Fprintf(&b, "; read its log with OperationLog(ctx, %q) for the reasons", op.ID)
		return b.String()
	}
	if created := len(e.Results.Created); created > 0 {
		fmt.Fprintf(&b, "; %d item(s) were created nonetheless", created)
	}
	errs := e.Results.fieldErrors()
	for i, fe := range errs {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more field errors", len(errs)-i)
			break
		}
		fmt.Fprintf(&b, "; %s", fe.Error())
	}
	for i, entry := range e.Results.Other {
		if i == 3 {
			break
		}
		if !entry.Success {
			fmt.Fprintf(&b, "; %s failed: %s", entry.Type, excerpt(entry.Output))
		}
	}
	return b.String()
}

// Is matches ErrOperationFailed.
func (e *OperationError) Is(target error) bool { return target == ErrOperationFailed }

// Unwrap returns a *ValidationError of the rejected items, or nil when the
// log named none.
func (e *OperationError) Unwrap() error {
	if e.Results == nil {
		return nil
	}
	if errs := e.Results.fieldErrors(); len(errs) > 0 {
		return &ValidationError{Errors: errs}
	}
	return nil
}

// WaitOperation polls GET /operations/{id} until the operation reaches
// SUCCESS or FAIL, and returns it on SUCCESS. On FAIL it returns an
// *OperationError carrying the operation (errors.Is(err, ErrOperationFailed)).
//
// It is also how another process picks up an operation by its id, for
// example an async upload whose operation_id was saved before a crash: the
// first poll happens at once, then polls follow WaitOptions. Any status
// other than SUCCESS and FAIL, including ones Toloka may add, counts as not
// finished. ctx (and WaitOptions.Timeout) bound the whole wait; when either
// ends it, the error wraps ctx's error and names the operation, so the wait
// can be resumed. Each poll is a read and is retried like any read.
func (c *Client) WaitOperation(ctx context.Context, id string, opts ...CallOption) (*Operation, error) {
	if _, err := resourcePath("operations", id); err != nil {
		return nil, err
	}
	return c.waitOperation(ctx, id, nil, newCallConfig(opts), opts)
}

// waitOperation polls until the operation is terminal. When op is the
// operation as returned on creation, the first poll waits FirstDelay;
// without it, the first poll is immediate.
func (c *Client) waitOperation(ctx context.Context, id string, op *Operation, cfg *callConfig, opts []CallOption) (*Operation, error) {
	w := cfg.async.wait
	policy := w.withDefaults()
	sleep := w.sleep
	if sleep == nil {
		sleep = sleepContext
	}
	parent := ctx
	if policy.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, policy.Timeout)
		defer cancel()
	}
	timedOut := func() time.Duration {
		if parent.Err() == nil {
			return policy.Timeout
		}
		return 0
	}
	var (
		polls  int
		waited time.Duration
		delay  = policy.FirstDelay
	)
	if op == nil {
		// Picked up by id: the first poll is at once, and the operation has
		// likely been running for a while.
		delay = policy.Interval
	}
	for {
		if op != nil {
			if w.progress != nil {
				w.progress(progressOf(op, polls, waited))
			}
			switch op.Status {
			case OperationSuccess:
				return op, nil
			case OperationFail:
				return nil, &OperationError{Operation: op}
			}
			if err := sleep(ctx, delay); err != nil {
				return nil, waitError(op, timedOut(), err)
			}
			waited += delay
			delay = policy.next(waited)
		}
		var next *Operation
		err := ctx.Err()
		if err == nil {
			next, err = c.GetOperation(ctx, id, opts...)
			polls++
		}
		if err != nil {
			if ctx.Err() != nil {
				if op == nil {
					op = &Operation{ID: id, Status: "unknown"}
				}
				return nil, waitError(op, timedOut(), ctx.Err())
			}
			return nil, fmt.Errorf("toloka: waiting for operation %s failed, though the operation itself may still finish: resume with WaitOperation(ctx, %q): %w", id, id, err)
		}
		op = next
	}
}

func progressOf(op *Operation, polls int, waited time.Duration) OperationProgress {
	p := OperationProgress{ID: op.ID, Type: op.Type, Status: op.Status, Counters: op.Counters(), Polls: polls, Waited: waited}
	if op.Progress != nil {
		p.Percent = *op.Progress
	}
	return p
}

// waitError reports a wait ended by ctx or, when timeout is not 0, by
// WaitOptions.Timeout, naming the operation so the caller can resume.
func waitError(op *Operation, timeout time.Duration, err error) error {
	if timeout > 0 {
		return fmt.Errorf("toloka: operation %s still %s after waiting %v; resume with WaitOperation(ctx, %q): %w", op.ID, op.Status, timeout, op.ID, err)
	}
	return fmt.Errorf("toloka: stopped waiting for operation %s (last status %s); resume with WaitOperation(ctx, %q): %w", op.ID, op.Status, op.ID, err)
}
