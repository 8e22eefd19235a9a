package toloka

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const waitOpID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"

// opSequence answers GET /operations/{id} with one body per poll, repeating
// the last; it counts the polls.
type opSequence struct {
	mu     sync.Mutex
	bodies []string
	polls  int
}

func (s *opSequence) respond(*http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body := s.bodies[min(s.polls, len(s.bodies)-1)]
	s.polls++
	return httpmock.NewStringResponse(http.StatusOK, body), nil
}

func opBody(status string, progress int) string {
	return fmt.Sprintf(`{"id":%q,"type":"TASK.BATCH_CREATE","status":%q,"progress":%d,"details":{"total_count":10,"success_count":%d}}`,
		waitOpID, status, progress, progress/10)
}

func serveOps(mt *httpmock.MockTransport, bodies ...string) *opSequence {
	s := &opSequence{bodies: bodies}
	mt.RegisterResponder(http.MethodGet, ProductionURL+"/operations/"+waitOpID, s.respond)
	return s
}

func TestWaitOperationEveryStatusPath(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	seq := serveOps(mt,
		opBody(OperationPending, 0),
		opBody(OperationRunning, 40),
		opBody("PAUSED_FOR_MAINTENANCE", 60),                                  // unknown: not finished
		`{"id":"`+waitOpID+`","type":"TASK.BATCH_CREATE","status":"RUNNING"}`, // no progress
		opBody(OperationSuccess, 100))
	sleeps := &sleepRecorder{}
	var seen []OperationProgress
	op, err := c.WaitOperation(context.Background(), waitOpID, sleeps.option(),
		WithProgress(func(p OperationProgress) { seen = append(seen, p) }))
	require.NoError(t, err)
	assert.Equal(t, OperationSuccess, op.Status)
	assert.Equal(t, 5, seen[4].Polls)
	assert.Equal(t, 5, seq.polls)
	// Picked up by id: the first poll is immediate, then every second.
	assert.Equal(t, []time.Duration{time.Second, time.Second, time.Second, time.Second}, sleeps.delays)
	require.Len(t, seen, 5)
	assert.Equal(t, []string{OperationPending, OperationRunning, "PAUSED_FOR_MAINTENANCE", OperationRunning, OperationSuccess},
		[]string{seen[0].Status, seen[1].Status, seen[2].Status, seen[3].Status, seen[4].Status})
	assert.Equal(t, 40, seen[1].Percent)
	assert.Equal(t, 0, seen[3].Percent, "absent progress reads as 0")
	assert.Equal(t, OperationCounters{TotalCount: 10, SuccessCount: 10}, seen[4].Counters)
	assert.Equal(t, 4*time.Second, seen[4].Waited)
}

func TestWaitOperationAlreadyFinished(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	serveOps(mt, opBody(OperationSuccess, 100))
	sleeps := &sleepRecorder{}
	_, err := c.WaitOperation(context.Background(), waitOpID, sleeps.option())
	require.NoError(t, err)
	assert.Empty(t, sleeps.delays)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestWaitOperationFail(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	serveOps(mt, opBody(OperationRunning, 50),
		`{"id":"`+waitOpID+`","type":"TASK.BATCH_CREATE","status":"FAIL","details":{"total_count":2,"valid_count":1,"not_valid_count":1,"success_count":0,"failed_count":2}}`)
	op, err := c.WaitOperation(context.Background(), waitOpID, (&sleepRecorder{}).option())
	assert.Nil(t, op)
	assert.ErrorIs(t, err, ErrOperationFailed)
	assert.NotErrorIs(t, err, ErrValidation, "nothing is known item by item without the log")
	var opErr *OperationError
	require.ErrorAs(t, err, &opErr)
	assert.Equal(t, OperationFail, opErr.Operation.Status)
	assert.Nil(t, opErr.Results)
	assert.Equal(t, "toloka: operation "+waitOpID+" (TASK.BATCH_CREATE) failed (total 2, valid 1, not valid 1, succeeded 0, failed 2); read its log with OperationLog(ctx, \""+waitOpID+"\") for the reasons", err.Error())
}

func TestWaitOperationBacksOffWithACap(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	bodies := make([]string, 80)
	for i := range bodies {
		bodies[i] = opBody(OperationRunning, 1)
	}
	bodies[len(bodies)-1] = opBody(OperationSuccess, 100)
	serveOps(mt, bodies...)
	sleeps := &sleepRecorder{}
	_, err := c.WaitOperation(context.Background(), waitOpID, sleeps.option())
	require.NoError(t, err)
	require.Len(t, sleeps.delays, 79)
	var waited time.Duration
	for i, d := range sleeps.delays {
		// A tenth of the time waited so far, between 1 s and 10 s.
		want := min(max(waited/10, time.Second), 10*time.Second)
		assert.Equal(t, want, d, "pause %d", i)
		if i > 0 {
			assert.GreaterOrEqual(t, d, sleeps.delays[i-1])
		}
		waited += d
	}
	assert.Equal(t, time.Second, sleeps.delays[9], "the first ten seconds poll every second")
	assert.Equal(t, 10*time.Second, sleeps.delays[78], "capped")
}

func TestWaitOptionsDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	w := WaitOptions{}.withDefaults()
	assert.Equal(t, WaitOptions{FirstDelay: 500 * time.Millisecond, Interval: time.Second, MaxInterval: 10 * time.Second}, w)
	w = WaitOptions{Interval: 20 * time.Second, MaxInterval: 5 * time.Second}.withDefaults()
	assert.Equal(t, 20*time.Second, w.MaxInterval, "the cap never undercuts the interval")
	assert.Equal(t, 20*time.Second, w.next(time.Hour))

	c, mt := newMockClient(t)
	serveOps(mt, opBody(OperationRunning, 1), opBody(OperationRunning, 1), opBody(OperationSuccess, 100))
	sleeps := &sleepRecorder{}
	var calls int
	// WaitOptions after WithProgress and the sleeper keep both.
	_, err := c.WaitOperation(context.Background(), waitOpID, WithProgress(func(OperationProgress) { calls++ }), sleeps.option(),
		WaitOptions{Interval: 3 * time.Second, MaxInterval: 3 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{3 * time.Second, 3 * time.Second}, sleeps.delays)
	assert.Equal(t, 3, calls)
}

func TestWaitOperationCancelledMidWait(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	seq := serveOps(mt, opBody(OperationRunning, 10))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleeps := &sleepRecorder{cancelAt: 2, cancel: cancel}
	_, err := c.WaitOperation(ctx, waitOpID, sleeps.option())
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "stopped waiting for operation "+waitOpID+" (last status RUNNING)")
	assert.ErrorContains(t, err, `resume with WaitOperation(ctx, "`+waitOpID+`")`)
	assert.Equal(t, 2, seq.polls)
}

func TestWaitOperationTimeout(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	serveOps(mt, opBody(OperationRunning, 10))
	// The pause waits for the wait's own deadline, whatever the delay.
	blockUntilDone := withSleeper(func(ctx context.Context, _ time.Duration) error {
		<-ctx.Done()
		return ctx.Err()
	})
	_, err := c.WaitOperation(context.Background(), waitOpID, blockUntilDone, WaitOptions{Timeout: time.Millisecond})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	// Under load the 1 ms deadline may pass before the first poll answers;
	// the error then says the status is unknown, and names the timeout either way.
	assert.Regexp(t, "operation "+waitOpID+" still (RUNNING|unknown) after waiting 1ms; resume with WaitOperation", err.Error())
}

func TestWaitOperationCallerDeadline(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	serveOps(mt, opBody(OperationRunning, 10))
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	blockUntilDone := withSleeper(func(ctx context.Context, _ time.Duration) error {
		<-ctx.Done()
		return ctx.Err()
	})
	_, err := c.WaitOperation(ctx, waitOpID, blockUntilDone, WaitOptions{Timeout: time.Hour})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "stopped waiting", "the caller's deadline is not reported as the wait timeout")
}

func TestWaitOperationErrors(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.WaitOperation(context.Background(), " ")
	assert.ErrorContains(t, err, "empty operation id")
	_, err = c.WaitOperation(context.Background(), "..")
	assert.ErrorContains(t, err, "not a valid operation id")
	assert.Zero(t, mt.GetTotalCallCount())

	mt.RegisterResponder(http.MethodGet, ProductionURL+"/operations/"+waitOpID, httpmock.NewStringResponder(404, `{"code":"DOES_NOT_EXIST","message":"There are no results for such parameters"}`))
	_, err = c.WaitOperation(context.Background(), waitOpID)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, "waiting for operation "+waitOpID)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.WaitOperation(ctx, waitOpID)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestWaitOperationEscapesTheID(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	var path string
	mt.RegisterRegexpResponder(http.MethodGet, regexp.MustCompile(`/operations/`), func(r *http.Request) (*http.Response, error) {
		path = r.URL.EscapedPath()
		return httpmock.NewStringResponse(200, `{"id":"a/b","status":"SUCCESS"}`), nil
	})
	_, err := c.WaitOperation(context.Background(), "a/b")
	require.NoError(t, err)
	assert.Equal(t, "/api/v1/operations/a%2Fb", path)
}

func TestSleepCtx(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, sleepContext(ctx, time.Hour), context.Canceled, "a done context ends the pause at once")
	assert.NoError(t, sleepContext(context.Background(), 0))
}
