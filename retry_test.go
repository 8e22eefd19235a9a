package toloka

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testBaseURL = "https://toloka.test/api/v1"

// testClock is the injected clock, sleeper and random source of a test
// client: sleeping only records the delay and advances the clock.
type testClock struct {
	mu     sync.Mutex
	now    time.Time
	delays []time.Duration
	// onSleep, when set, runs instead of recording (e.g. to cancel a ctx).
	onSleep func(ctx context.Context, d time.Duration) error
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (k *testClock) Now() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.now
}

func (k *testClock) Sleep(ctx context.Context, d time.Duration) error {
	k.mu.Lock()
	hook := k.onSleep
	k.delays = append(k.delays, d)
	k.now = k.now.Add(d)
	k.mu.Unlock()
	if hook != nil {
		return hook(ctx, d)
	}
	return ctx.Err()
}

func (k *testClock) Delays() []time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]time.Duration(nil), k.delays...)
}

// newTestClient returns a client on rt whose waits are recorded, not slept,
// and whose jitter draw is always 0.5 (half the backoff ceiling).
func newTestClient(t *testing.T, rt http.RoundTripper, opts ...Option) (*Client, *testClock) {
	t.Helper()
	base := []Option{WithAPIKey("secret-key-123"), WithBaseURL(testBaseURL), WithTransport(rt)}
	c, err := NewClient(append(base, opts...)...)
	require.NoError(t, err)
	clock := newTestClock()
	c.now, c.sleep, c.random = clock.Now, clock.Sleep, func() float64 { return 0.5 }
	return c, clock
}

// rtFunc adapts a function to http.RoundTripper.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func jsonResponse(status int, body string, header ...string) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

func dialError() error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
}

var testPolicy = RetryPolicy{MaxRetries: 3, BaseDelay: 100 * time.Millisecond, MaxDelay: 10 * time.Second, MaxQuotaWait: 90 * time.Second}

func TestDefaultRetryPolicy(t *testing.T) {
	t.Parallel()
	p := DefaultRetryPolicy()
	require.NoError(t, p.validate())
	assert.Equal(t, 4, p.MaxRetries)
	assert.Greater(t, p.MaxQuotaWait, time.Minute, "a per-minute quota must be waitable by default")
	c, err := NewClient(WithAPIKey("k"))
	require.NoError(t, err)
	assert.Equal(t, p, c.retryPolicy)
}

func TestRetryPolicyValidate(t *testing.T) {
	t.Parallel()
	for _, p := range []RetryPolicy{{MaxRetries: -1}, {BaseDelay: -1}, {MaxDelay: -1}, {MaxQuotaWait: -time.Second}} {
		_, err := NewClient(WithAPIKey("k"), WithRetryPolicy(p))
		assert.Error(t, err, "%+v", p)
	}
	_, err := NewClient(WithAPIKey("k"), WithRetryPolicy(RetryPolicy{}))
	assert.NoError(t, err)
}

func apiFailure(status int, body string, header ...string) failure {
	resp := jsonResponse(status, body, header...)
	e := newAPIError("GET", "/pools/1", status, []byte(body))
	return failure{err: e, apiErr: e, header: resp.Header}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	safe := &apiRequest{method: "GET", path: "pools/1", retry: retrySafe}
	unsafe := &apiRequest{method: "POST", path: "tasks", retry: retryUnsafe}
	minQuota := `{"code":"TOO_MANY_REQUESTS","message":"Too many requests","payload":{"interval":"MIN"}}`
	tests := []struct {
		name        string
		req         *apiRequest
		f           failure
		retries     int
		wantRetry   bool
		wantDelay   time.Duration
		wantUnknown bool
		wantRate    string // interval of the *RateLimitError expected, "-" for none
	}{
		// Retryable statuses back off with jitter 0.5 of 100ms·2^retries.
		{"408 retried", safe, apiFailure(408, ""), 0, true, 50 * time.Millisecond, false, "-"},
		{"500 retried", safe, apiFailure(500, `{"code":"INTERNAL_ERROR","message":"Internal Error"}`), 0, true, 50 * time.Millisecond, false, "-"},
		{"502 retried", safe, apiFailure(502, "<html>bad gateway</html>"), 1, true, 100 * time.Millisecond, false, "-"},
		{"503 retried", safe, apiFailure(503, `{"code":"REMOTE_SERVICE_UNAVAILABLE"}`), 2, true, 200 * time.Millisecond, false, "-"},
		{"504 retried", safe, apiFailure(504, ""), 0, true, 50 * time.Millisecond, false, "-"},
		{"retries exhausted", safe, apiFailure(503, ""), 3, false, 0, false, "-"},
		// Everything else is returned at once.
		{"400 not retried", safe, apiFailure(400, `{"code":"VALIDATION_ERROR"}`), 0, false, 0, false, "-"},
		{"401 not retried", safe, apiFailure(401, ""), 0, false, 0, false, "-"},
		{"403 not retried", safe, apiFailure(403, ""), 0, false, 0, false, "-"},
		{"404 not retried", safe, apiFailure(404, ""), 0, false, 0, false, "-"},
		{"409 not retried", safe, apiFailure(409, `{"code":"OPERATION_ALREADY_EXISTS"}`), 0, false, 0, false, "-"},
		{"413 not retried", safe, apiFailure(413, ""), 0, false, 0, false, "-"},
		{"501 not retried", safe, apiFailure(501, ""), 0, false, 0, false, "-"},
		// Retry-After replaces the backoff, capped at MaxDelay.
		{"Retry-After seconds", safe, apiFailure(503, "", "Retry-After", "3"), 0, true, 3 * time.Second, false, "-"},
		{"Retry-After date", safe, apiFailure(503, "", "Retry-After", "Wed, 01 May 2024 12:00:07 GMT"), 0, true, 7 * time.Second, false, "-"},
		{"Retry-After capped", safe, apiFailure(503, "", "Retry-After", "86400"), 0, true, 10 * time.Second, false, "-"},
		{"Retry-After garbage falls back to backoff", safe, apiFailure(503, "", "Retry-After", "later"), 0, true, 50 * time.Millisecond, false, "-"},
		// 429s.
		{"plain 429 backs off", safe, apiFailure(429, `{"code":"TOO_MANY_REQUESTS"}`), 1, true, 100 * time.Millisecond, false, ""},
		{"plain 429 with Retry-After", safe, apiFailure(429, `{"code":"TOO_MANY_REQUESTS"}`, "Retry-After", "2"), 0, true, 2 * time.Second, false, ""},
		{"minute quota waits a minute", safe, apiFailure(429, minQuota), 0, true, time.Minute, false, "MIN"},
		{"minute quota honours Retry-After", safe, apiFailure(429, minQuota, "Retry-After", "20"), 0, true, 20 * time.Second, false, "MIN"},
		{"minute quota Retry-After over MaxQuotaWait is capped", safe, apiFailure(429, minQuota, "Retry-After", "600"), 0, true, 90 * time.Second, false, "MIN"},
		{"minute quota interval is case-insensitive", safe, apiFailure(429, `{"code":"TOO_MANY_REQUESTS","payload":{"interval":" min "}}`), 0, true, time.Minute, false, "MIN"},
		{"minute quota out of retries", safe, apiFailure(429, minQuota), 3, false, 0, false, "MIN"},
		{"hour quota returned at once", safe, apiFailure(429, `{"code":"TOO_MANY_REQUESTS","payload":{"interval":"HOUR"}}`), 0, false, 0, false, "HOUR"},
		{"day quota returned at once even with retries left", safe, apiFailure(429, `{"code":"TOO_MANY_REQUESTS","payload":{"interval":"DAY"}}`, "Retry-After", "5"), 0, false, 0, false, "DAY"},
		{"unknown interval returned at once", safe, apiFailure(429, `{"code":"TOO_MANY_REQUESTS","payload":{"interval":"WEEK"}}`), 0, false, 0, false, "WEEK"},
		{"429 with a non-object payload is a plain throttle", safe, apiFailure(429, `{"code":"TOO_MANY_REQUESTS","payload":["MIN"]}`), 0, true, 50 * time.Millisecond, false, ""},
		// Transport errors.
		{"network error retried", safe, failure{err: io.ErrUnexpectedEOF}, 0, true, 50 * time.Millisecond, false, "-"},
		{"permanent network error not retried", safe, failure{err: errors.New("x509"), permanent: true}, 0, false, 0, false, "-"},
		// Unsafe (sync create) requests.
		{"unsafe dial error retried", unsafe, failure{err: dialError(), notApplied: true}, 0, true, 50 * time.Millisecond, false, "-"},
		{"unsafe EOF is outcome unknown", unsafe, failure{err: io.ErrUnexpectedEOF}, 0, false, 0, true, "-"},
		{"unsafe 500 is outcome unknown", unsafe, apiFailure(500, ""), 0, false, 0, true, "-"},
		{"unsafe 503 is outcome unknown", unsafe, apiFailure(503, "", "Retry-After", "1"), 0, false, 0, true, "-"},
		{"unsafe 408 is outcome unknown", unsafe, apiFailure(408, ""), 0, false, 0, true, "-"},
		{"unsafe 429 retried", unsafe, apiFailure(429, `{"code":"TOO_MANY_REQUESTS"}`), 0, true, 50 * time.Millisecond, false, ""},
		{"unsafe minute quota waited out", unsafe, apiFailure(429, minQuota), 0, true, time.Minute, false, "MIN"},
		{"unsafe 400 is a plain error", unsafe, apiFailure(400, `{"code":"VALIDATION_ERROR"}`), 0, false, 0, false, "-"},
		{"unsafe permanent error is not outcome unknown", unsafe, failure{err: errors.New("x509"), permanent: true}, 0, false, 0, false, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := testPolicy.judge(tt.req, tt.f, tt.retries, now, 0.5)
			assert.Equal(t, tt.wantRetry, v.retry, "retry")
			assert.Equal(t, tt.wantDelay, v.delay, "delay")
			require.Error(t, v.err)
			assert.Equal(t, tt.wantUnknown, errors.Is(v.err, ErrOutcomeUnknown), "outcome unknown: %v", v.err)
			var rle *RateLimitError
			if tt.wantRate == "-" {
				assert.False(t, errors.As(v.err, &rle), "unexpected *RateLimitError")
			} else {
				require.ErrorAs(t, v.err, &rle)
				assert.Equal(t, tt.wantRate, rle.Interval)
				assert.ErrorIs(t, v.err, ErrRateLimited)
			}
			if tt.f.apiErr != nil {
				var apiErr *APIError
				require.ErrorAs(t, v.err, &apiErr, "the *APIError stays reachable")
				assert.Equal(t, tt.f.apiErr.StatusCode, apiErr.StatusCode)
			}
		})
	}
}

func TestRateLimitErrorRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		payload    string
		retryAfter string
		want       time.Duration
	}{
		{`{"interval":"MIN"}`, "", time.Minute},
		{`{"interval":"HOUR"}`, "", time.Hour},
		{`{"interval":"DAY"}`, "", 24 * time.Hour},
		{`{"interval":"DAY"}`, "120", 2 * time.Minute},
		{`{}`, "", 0},
		{`{}`, "4", 4 * time.Second},
	}
	for _, tt := range tests {
		body := `{"code":"TOO_MANY_REQUESTS","message":"Too many requests","payload":` + tt.payload + `}`
		f := apiFailure(429, body, "Retry-After", tt.retryAfter)
		v := RetryPolicy{}.judge(&apiRequest{retry: retrySafe}, f, 0, time.Now(), 0)
		var rle *RateLimitError
		require.ErrorAs(t, v.err, &rle)
		assert.Equal(t, tt.want, rle.RetryAfter, "%s %s", tt.payload, tt.retryAfter)
		assert.Contains(t, rle.Error(), "429")
	}
}

func TestRetryLoopStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status       int
		wantAttempts int
	}{
		{200, 1}, {201, 1}, {400, 1}, {401, 1}, {403, 1}, {404, 1}, {409, 1}, {413, 1}, {415, 1},
		{408, 2}, {429, 2}, {500, 2}, {502, 2}, {503, 2}, {504, 2},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			mt.RegisterResponder("GET", testBaseURL+"/pools/7",
				httpmock.NewStringResponder(tt.status, `{"id":"7","code":"X","message":"first"}`).
					Then(httpmock.NewStringResponder(200, `{"id":"7"}`)))
			c, clock := newTestClient(t, mt, WithRetryPolicy(testPolicy))
			pool, err := c.GetPool(t.Context(), "7")
			assert.Equal(t, tt.wantAttempts, mt.GetTotalCallCount())
			assert.Len(t, clock.Delays(), tt.wantAttempts-1)
			if tt.status < 300 || tt.wantAttempts == 2 {
				require.NoError(t, err)
				assert.Equal(t, "7", pool.ID)
				return
			}
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			var retryErr *RetryError
			assert.False(t, errors.As(err, &retryErr), "a first-attempt failure is not wrapped")
		})
	}
}

func TestRetryLoopExhausted(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", testBaseURL+"/pools/7",
		httpmock.NewStringResponder(503, `{"code":"REMOTE_SERVICE_UNAVAILABLE","message":"Service is temporary unavailable","request_id":"r-1"}`))
	c, clock := newTestClient(t, mt, WithRetryPolicy(testPolicy))
	_, err := c.GetPool(t.Context(), "7")
	require.Error(t, err)
	assert.Equal(t, 4, mt.GetTotalCallCount(), "MaxRetries 3 means 4 attempts")
	// Full jitter at 0.5 of 100ms, 200ms, 400ms.
	assert.Equal(t, []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}, clock.Delays())
	var retryErr *RetryError
	require.ErrorAs(t, err, &retryErr)
	assert.Equal(t, 4, retryErr.Attempts)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "r-1", apiErr.RequestID)
	assert.ErrorIs(t, err, ErrServerUnavailable)
	assert.Contains(t, err.Error(), "gave up after 4 attempts")
}

func TestPerCallRetryPolicyOverrides(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", testBaseURL+"/pools/7", httpmock.NewStringResponder(500, ``))
	c, _ := newTestClient(t, mt, WithRetryPolicy(testPolicy))

	_, err := c.GetPool(t.Context(), "7", RetryPolicy{})
	require.Error(t, err)
	assert.Equal(t, 1, mt.GetTotalCallCount(), "RetryPolicy{} per call turns retries off")

	_, err = c.GetPool(t.Context(), "7", RetryPolicy{MaxRetries: 1})
	require.Error(t, err)
	assert.Equal(t, 3, mt.GetTotalCallCount(), "MaxRetries 1 per call means 2 attempts")

	_, err = c.GetPool(t.Context(), "7", RetryPolicy{MaxRetries: -2})
	require.ErrorContains(t, err, "MaxRetries")
	assert.Equal(t, 3, mt.GetTotalCallCount(), "an invalid per-call policy sends nothing")
}

func TestRetriedRequestReplaysBodyAndHeaders(t *testing.T) {
	t.Parallel()
	type seen struct {
		body, query, attempt, auth string
	}
	var mu sync.Mutex
	var got []seen
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		mu.Lock()
		got = append(got, seen{string(body), r.URL.RawQuery, r.Header.Get(AttemptHeader), r.Header.Get("Authorization")})
		n := len(got)
		mu.Unlock()
		if n < 3 {
			return nil, io.ErrUnexpectedEOF // lost after the request was written
		}
		return jsonResponse(201, `{"id":"op-1","type":"TASK.BATCH_CREATE","status":"RUNNING"}`), nil
	})
	c, _ := newTestClient(t, rt, WithRetryPolicy(testPolicy))
	tasks := []Task{{PoolID: "1", InputValues: Values{"image": "https://example.com/1.png"}, Overlap: FiniteOverlap(1)}}
	op, err := c.CreateTasksAsync(t.Context(), tasks, WithOperationID("281073ea-ab34-416e-a028-47421ff1b166"), SkipValidation())
	require.NoError(t, err, "an async create with an operation_id is safe to resend")
	assert.Equal(t, "op-1", op.ID)
	require.Len(t, got, 3)
	assert.Contains(t, got[0].body, `"__item_idx":"0"`)
	for i, s := range got {
		assert.Equal(t, got[0].body, s.body, "attempt %d carries the whole body", i+1)
		assert.Contains(t, s.query, "operation_id=281073ea-ab34-416e-a028-47421ff1b166", "the same operation_id on every attempt")
		assert.Equal(t, "ApiKey secret-key-123", s.auth)
		assert.Equal(t, []string{"1", "2", "3"}[i], s.attempt)
	}
}

// TestUnsafeSyncCreate drives the public sync create through a RoundTripper
// that fails in the ways that decide whether a resend could duplicate tasks.
func TestUnsafeSyncCreate(t *testing.T) {
	t.Parallel()
	created := `{"items":{"0":{"id":"t-1","pool_id":"1","input_values":{"image":"x"}}},"validation_errors":{}}`
	tests := []struct {
		name         string
		first        func() (*http.Response, error)
		wantAttempts int
		wantErr      bool
		wantUnknown  bool
	}{
		{"dial error is resent", func() (*http.Response, error) { return nil, dialError() }, 2, false, false},
		{"DNS error is resent", func() (*http.Response, error) {
			return nil, &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "toloka.test"}}
		}, 2, false, false},
		{"429 is resent", func() (*http.Response, error) { return jsonResponse(429, `{"code":"TOO_MANY_REQUESTS"}`), nil }, 2, false, false},
		{"minute quota is waited out and resent", func() (*http.Response, error) {
			return jsonResponse(429, `{"code":"TOO_MANY_REQUESTS","payload":{"interval":"MIN"}}`), nil
		}, 2, false, false},
		{"EOF after writing is outcome unknown", func() (*http.Response, error) { return nil, io.ErrUnexpectedEOF }, 1, true, true},
		{"reset after writing is outcome unknown", func() (*http.Response, error) {
			return nil, &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}
		}, 1, true, true},
		{"500 is outcome unknown", func() (*http.Response, error) { return jsonResponse(500, `{"code":"INTERNAL_ERROR"}`), nil }, 1, true, true},
		{"504 is outcome unknown", func() (*http.Response, error) { return jsonResponse(504, ``), nil }, 1, true, true},
		{"body lost after 201 is outcome unknown", func() (*http.Response, error) {
			return &http.Response{StatusCode: 201, Header: http.Header{}, Body: io.NopCloser(io.MultiReader(strings.NewReader(`{"items":`), errReader{io.ErrUnexpectedEOF}))}, nil
		}, 1, true, true},
		{"hourly quota is a rate-limit error", func() (*http.Response, error) {
			return jsonResponse(429, `{"code":"TOO_MANY_REQUESTS","payload":{"interval":"HOUR"}}`), nil
		}, 1, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			calls := 0
			rt := rtFunc(func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				calls++
				n := calls
				mu.Unlock()
				assert.Equal(t, "false", r.URL.Query().Get("async_mode"))
				if n == 1 {
					return tt.first()
				}
				return jsonResponse(201, created), nil
			})
			c, _ := newTestClient(t, rt, WithRetryPolicy(testPolicy))
			tasks := []Task{{PoolID: "1", InputValues: Values{"image": "x"}, Overlap: FiniteOverlap(1)}}
			res, err := c.CreateTasks(t.Context(), tasks, SkipValidation())
			assert.Equal(t, tt.wantAttempts, calls)
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, "t-1", res.Items[0].ID)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.wantUnknown, errors.Is(err, ErrOutcomeUnknown), "%v", err)
			if tt.wantUnknown {
				assert.Contains(t, err.Error(), "async")
				assert.NotContains(t, err.Error(), "secret-key-123")
			}
		})
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestSafeGetRetriesBodyLostMidway(t *testing.T) {
	t.Parallel()
	calls := 0
	rt := rtFunc(func(*http.Request) (*http.Response, error) {
		calls++
		if calls == 1 {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(io.MultiReader(strings.NewReader(`{"id":`), errReader{io.ErrUnexpectedEOF}))}, nil
		}
		return jsonResponse(200, `{"id":"9"}`), nil
	})
	c, _ := newTestClient(t, rt, WithRetryPolicy(testPolicy))
	op, err := c.GetOperation(t.Context(), "9")
	require.NoError(t, err)
	assert.Equal(t, "9", op.ID)
	assert.Equal(t, 2, calls)
}

func TestQuotaWaitsAndGivesUp(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", testBaseURL+"/operations/o1",
		httpmock.NewStringResponder(429, `{"code":"TOO_MANY_REQUESTS","payload":{"interval":"MIN"}}`).
			Then(httpmock.NewStringResponder(429, `{"code":"TOO_MANY_REQUESTS","payload":{"interval":"DAY"}}`)))
	c, clock := newTestClient(t, mt, WithRetryPolicy(testPolicy))
	_, err := c.GetOperation(t.Context(), "o1")
	assert.Equal(t, []time.Duration{time.Minute}, clock.Delays(), "the minute quota is waited out, the daily one is not")
	var rle *RateLimitError
	require.ErrorAs(t, err, &rle)
	assert.Equal(t, QuotaDay, rle.Interval)
	assert.Equal(t, 24*time.Hour, rle.RetryAfter)
	assert.ErrorIs(t, err, ErrRateLimited)
	var retryErr *RetryError
	require.ErrorAs(t, err, &retryErr)
	assert.Equal(t, 2, retryErr.Attempts)
}

func TestQuotaWaitSkippedWhenItOutlastsDeadline(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", testBaseURL+"/operations/o1",
		httpmock.NewStringResponder(429, `{"code":"TOO_MANY_REQUESTS","payload":{"interval":"MIN"}}`))
	c, clock := newTestClient(t, mt, WithRetryPolicy(testPolicy))
	clock.now = time.Now() // the ctx deadline runs on the real clock
	ctx, cancel := context.WithDeadline(t.Context(), clock.Now().Add(30*time.Second))
	defer cancel()
	_, err := c.GetOperation(ctx, "o1")
	assert.Empty(t, clock.Delays(), "a 60 s wait cannot fit in a 30 s deadline")
	assert.Equal(t, 1, mt.GetTotalCallCount())
	var rle *RateLimitError
	require.ErrorAs(t, err, &rle, "the caller learns about the quota, not a bare deadline")
	assert.Equal(t, QuotaMinute, rle.Interval)
}

func TestCancelDuringRetrySleep(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", testBaseURL+"/pools/7", httpmock.NewStringResponder(503, ``))
	c, clock := newTestClient(t, mt, WithRetryPolicy(testPolicy))
	ctx, cancel := context.WithCancel(t.Context())
	clock.onSleep = func(ctx context.Context, d time.Duration) error {
		cancel()                              // the caller gives up while the client waits...
		return sleepContext(ctx, time.Hour+d) // ...and the real sleeper must return at once.
	}
	_, err := c.GetPool(ctx, "7")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, context.Canceled, err, "the ctx error is what the caller sees")
	assert.Equal(t, 1, mt.GetTotalCallCount(), "no attempt after the cancel")
}

func TestSleepContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- sleepContext(ctx, time.Hour) }()
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled, "an hour-long sleep ends with its ctx")

	assert.NoError(t, sleepContext(t.Context(), 0))
	assert.NoError(t, sleepContext(t.Context(), time.Nanosecond))
	assert.ErrorIs(t, sleepContext(ctx, 0), context.Canceled)
}

func TestCanceledContextSendsNothing(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", testBaseURL+"/pools/7", httpmock.NewStringResponder(200, `{"id":"7"}`))
	c, _ := newTestClient(t, mt)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.GetPool(ctx, "7")
	assert.Equal(t, context.Canceled, err)
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestContextEndsDuringAttempt(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		cancel()
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
	c, clock := newTestClient(t, rt, WithRetryPolicy(testPolicy))
	tasks := []Task{{PoolID: "1", InputValues: Values{"a": "b"}, Overlap: FiniteOverlap(1)}}
	_, err := c.CreateTasks(ctx, tasks, SkipValidation())
	assert.Equal(t, context.Canceled, err)
	assert.Empty(t, clock.Delays())
}

func TestPerAttemptTimeout(t *testing.T) {
	t.Parallel()
	calls := 0
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		deadline, ok := r.Context().Deadline()
		require.True(t, ok, "every attempt has its own deadline")
		assert.False(t, deadline.IsZero())
		if calls == 1 {
			<-r.Context().Done() // a stalled server; the attempt's own timeout ends it
			return nil, r.Context().Err()
		}
		return jsonResponse(200, `{"id":"7"}`), nil
	})
	c, _ := newTestClient(t, rt, WithRetryPolicy(testPolicy), WithRequestTimeout(time.Millisecond))
	pool, err := c.GetPool(t.Context(), "7")
	require.NoError(t, err)
	assert.Equal(t, "7", pool.ID)
	assert.Equal(t, 2, calls, "the timed-out attempt was retried")

	_, err = NewClient(WithAPIKey("k"), WithRequestTimeout(-time.Second))
	assert.Error(t, err)
}

func TestPerAttemptTimeoutOnUnsafeIsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
	c, _ := newTestClient(t, rt, WithRetryPolicy(testPolicy), WithRequestTimeout(time.Millisecond))
	tasks := []Task{{PoolID: "1", InputValues: Values{"a": "b"}, Overlap: FiniteOverlap(1)}}
	_, err := c.CreateTasks(t.Context(), tasks, SkipValidation())
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "attempt timed out after 1ms")
}

func TestNotAppliedClassification(t *testing.T) {
	t.Parallel()
	assert.True(t, notApplied(dialError()))
	assert.True(t, notApplied(&net.OpError{Op: "proxyconnect", Err: errors.New("refused")}))
	assert.True(t, notApplied(&net.DNSError{Err: "no such host"}))
	assert.False(t, notApplied(io.ErrUnexpectedEOF))
	assert.False(t, notApplied(&net.OpError{Op: "read", Err: errors.New("reset")}))
	assert.False(t, notApplied(&net.OpError{Op: "write", Err: errors.New("broken pipe")}))
	assert.False(t, notApplied(context.DeadlineExceeded))
}

// trackedBody records whether it was read to the end and closed.
type trackedBody struct {
	r      io.Reader
	eof    atomic.Bool
	closed atomic.Bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

func (b *trackedBody) Close() error { b.closed.Store(true); return nil }

func TestBodiesDrainedAndClosedBetweenAttempts(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies []*trackedBody
	rt := rtFunc(func(*http.Request) (*http.Response, error) {
		b := &trackedBody{r: strings.NewReader(`{"code":"INTERNAL_ERROR","message":"Internal Error"}`)}
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		return &http.Response{StatusCode: 500, Header: http.Header{}, Body: b}, nil
	})
	c, _ := newTestClient(t, rt, WithRetryPolicy(testPolicy))
	_, err := c.GetPool(t.Context(), "7")
	require.Error(t, err)
	require.Len(t, bodies, 4)
	for i, b := range bodies {
		assert.True(t, b.eof.Load(), "body %d drained", i)
		assert.True(t, b.closed.Load(), "body %d closed", i)
	}
}

func TestRetriesReuseTheConnection(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	var calls atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) < 4 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"code":"REMOTE_SERVICE_UNAVAILABLE","message":"Service is temporary unavailable"}`)
			return
		}
		_, _ = io.WriteString(w, `{"id":"7"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := NewClient(WithAPIKey(secret), WithBaseURL(srv.URL), WithRetryPolicy(RetryPolicy{MaxRetries: 3}))
	require.NoError(t, err)
	pool, err := c.GetPool(t.Context(), "7")
	require.NoError(t, err)
	assert.Equal(t, "7", pool.ID)
	assert.Equal(t, int32(4), calls.Load())
	assert.Equal(t, int32(1), conns.Load(), "drained error bodies let every retry reuse the connection")
}

func TestDialErrorFromRealListener(t *testing.T) {
	t.Parallel()
	// A port nobody listens on: the real transport reports a dial error, which
	// a sync create may safely retry.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	c, err := NewClient(WithAPIKey(secret), WithBaseURL("http://"+addr), WithRetryPolicy(RetryPolicy{MaxRetries: 2}))
	require.NoError(t, err)
	tasks := []Task{{PoolID: "1", InputValues: Values{"a": "b"}, Overlap: FiniteOverlap(1)}}
	_, err = c.CreateTasks(t.Context(), tasks, SkipValidation())
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrOutcomeUnknown), "a refused connection proves nothing was applied: %v", err)
	var retryErr *RetryError
	require.ErrorAs(t, err, &retryErr)
	assert.Equal(t, 3, retryErr.Attempts)
}

func TestSendStreamsTheBody(t *testing.T) {
	t.Parallel()
	var reqCtx context.Context
	calls := 0
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		if calls == 1 {
			return jsonResponse(502, ``), nil
		}
		reqCtx = r.Context()
		return jsonResponse(200, `[{"type":"TASK_CREATE","success":true}]`), nil
	})
	c, _ := newTestClient(t, rt, WithRetryPolicy(testPolicy), WithRequestTimeout(time.Hour))
	resp, err := c.send(t.Context(), &apiRequest{method: "GET", path: "operations/o/log", retry: retrySafe}, newCallConfig(nil))
	require.NoError(t, err)
	assert.Equal(t, 2, calls, "send retries like doJSON")
	assert.NoError(t, reqCtx.Err(), "the attempt stays alive while the caller streams")
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.JSONEq(t, `[{"type":"TASK_CREATE","success":true}]`, string(data))
	require.NoError(t, resp.Body.Close())
	assert.ErrorIs(t, reqCtx.Err(), context.Canceled, "closing the body ends the attempt's timeout context")
}

// A 2xx answer to a sync create too large to read means the items exist but
// the client cannot tell which: outcome unknown, never a plain error.
func TestOversizedAnswerToSyncCreateIsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("POST", `=~/tasks$`, httpmock.NewStringResponder(201, `{"items":{"0":{"id":"`+strings.Repeat("x", 128<<10)+`"}}}`))
	c, _ := newTestClient(t, mt, WithRetryPolicy(testPolicy))
	c.maxBody = 64 << 10
	_, err := c.CreateTasks(t.Context(), []Task{{PoolID: "1", InputValues: Values{"a": "b"}, Overlap: FiniteOverlap(1)}}, SkipValidation())
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.ErrorContains(t, err, "response larger than 65536 bytes")
	assert.Equal(t, 1, mt.GetTotalCallCount(), "not resent")
}

// net/http may replay a request body by itself when GetBody is set; a sync
// create must not give it the means, while a safe request keeps it.
func TestOnlySafeRequestsCanBeReplayedByNetHTTP(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, httpmock.NewMockTransport())
	for _, tc := range []struct {
		class    retryClass
		replayed bool
	}{{retryUnsafe, false}, {retrySafe, true}} {
		req, err := c.newHTTPRequest(t.Context(), &apiRequest{method: "POST", path: "tasks", body: []byte(`[]`), retry: tc.class}, 1)
		require.NoError(t, err)
		assert.Equal(t, tc.replayed, req.GetBody != nil, "class %d", tc.class)
	}
}

func TestRetryAfterWithoutARealHint(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	p := RetryPolicy{MaxRetries: 3, BaseDelay: time.Second, MaxDelay: 8 * time.Second, MaxQuotaWait: time.Minute}
	quota := func(interval, retryAfter string) failure {
		e := newAPIError("POST", "/tasks", 429, []byte(`{"code":"TOO_MANY_REQUESTS","message":"q","payload":{"interval":"`+interval+`"}}`))
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		return failure{err: e, apiErr: e, header: h}
	}
	past := now.Add(-time.Hour).Format(http.TimeFormat)
	for _, ra := range []string{"0", past} {
		v := p.judge(&apiRequest{retry: retrySafe}, quota("", ra), 2, now, 0.5)
		assert.True(t, v.retry)
		assert.Equal(t, 2*time.Second, v.delay, "%s: the backoff's delay, not an immediate retry", ra)

		v = p.judge(&apiRequest{retry: retrySafe}, quota("HOUR", ra), 0, now, 0.5)
		require.False(t, v.retry)
		var rle *RateLimitError
		require.ErrorAs(t, v.err, &rle)
		assert.Equal(t, time.Hour, rle.RetryAfter, "%s: the interval's length, not zero", ra)
	}
	v := p.judge(&apiRequest{retry: retrySafe}, quota("DAY", "99999999999"), 0, now, 0.5)
	var rle *RateLimitError
	require.ErrorAs(t, v.err, &rle)
	assert.Equal(t, 24*time.Hour, rle.RetryAfter, "a huge hint is capped")
}
