package toloka

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

func TestNewRateLimiter(t *testing.T) {
	t.Parallel()
	for _, bad := range []float64{0, -1, 301, math.NaN(), math.Inf(1)} {
		_, err := NewRateLimiter(bad)
		assert.Error(t, err, "%v", bad)
	}
	for _, rps := range []float64{0.5, 1, 250, MaxRequestsPerSecond} {
		lim, err := NewRateLimiter(rps)
		require.NoError(t, err)
		assert.Equal(t, rate.Limit(rps), lim.Limit())
		assert.Equal(t, 1, lim.Burst(), "requests are spaced, not bunched")
	}
}

// TestRateLimiterPacing replays one simulated second of requests offered
// every 10 µs against the limiter's own clock arithmetic: no real waiting.
func TestRateLimiterPacing(t *testing.T) {
	t.Parallel()
	lim, err := NewRateLimiter(MaxRequestsPerSecond)
	require.NoError(t, err)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	allowed := 0
	for at := t0; at.Before(t0.Add(time.Second)); at = at.Add(10 * time.Microsecond) {
		if lim.AllowN(at, 1) {
			allowed++
		}
	}
	assert.LessOrEqual(t, allowed, MaxRequestsPerSecond+1, "at most the rate plus the one-request burst")
	assert.GreaterOrEqual(t, allowed, MaxRequestsPerSecond-5, "and not much less")
}

// countingLimiter records Wait calls and can fail them.
type countingLimiter struct {
	calls atomic.Int64
	err   error
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.calls.Add(1)
	if l.err != nil {
		return l.err
	}
	return ctx.Err()
}

func TestLimiterConsultedBeforeEveryAttempt(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", testBaseURL+"/pools/7",
		httpmock.NewStringResponder(503, ``).Then(httpmock.NewStringResponder(200, `{"id":"7"}`)))
	lim := &countingLimiter{}
	c, _ := newTestClient(t, mt, WithRetryPolicy(testPolicy), WithRateLimiter(lim))
	_, err := c.GetPool(t.Context(), "7")
	require.NoError(t, err)
	assert.Equal(t, int64(2), lim.calls.Load(), "the retry is paced too")
	assert.Equal(t, 2, mt.GetTotalCallCount())
}

func TestLimiterFailureSendsNothing(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", testBaseURL+"/pools/7", httpmock.NewStringResponder(200, `{"id":"7"}`))
	lim := &countingLimiter{err: errors.New("rate: Wait(n=1) would exceed context deadline")}
	c, _ := newTestClient(t, mt, WithRateLimiter(lim))
	_, err := c.GetPool(t.Context(), "7")
	require.ErrorContains(t, err, "waiting for the rate limiter")
	assert.Zero(t, mt.GetTotalCallCount())

	// When the ctx itself ended, its error is what the caller sees.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	lim.err = context.Canceled
	_, err = c.GetPool(ctx, "7")
	assert.Equal(t, context.Canceled, err)

	_, err = NewClient(WithAPIKey("k"), WithRateLimiter(nil))
	assert.Error(t, err)
}

func TestLimiterSharedAcrossClientsAndGoroutines(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", `=~^`+testBaseURL+`/pools/\d+\z`, httpmock.NewStringResponder(200, `{"id":"1"}`))
	lim := &countingLimiter{}
	a, _ := newTestClient(t, mt, WithRateLimiter(lim))
	b, _ := newTestClient(t, mt, WithRateLimiter(lim))
	// A real limiter shared the same way must be safe under -race too.
	real := rate.NewLimiter(rate.Inf, 1)
	r1, _ := newTestClient(t, mt, WithRateLimiter(real))
	r2, _ := newTestClient(t, mt, WithRateLimiter(real))
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := []*Client{a, b, r1, r2}[i%4]
			_, err := c.GetPool(t.Context(), "1")
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(20), lim.calls.Load(), "every request of both clients went through the one limiter")
	assert.Equal(t, 40, mt.GetTotalCallCount())
}
