package toloka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

const secret = "secret-key-123"

func TestPlainHTTPRefusedOffLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url    string
		opts   []Option
		wantOK bool
	}{
		{"https://toloka.dev/api/v1", nil, true},
		{"http://127.0.0.1:8080/api/v1", nil, true},
		{"http://127.0.0.2/api/v1", nil, true},
		{"http://[::1]:9000/api/v1", nil, true},
		{"http://localhost:9000/api/v1", nil, true},
		{"http://api.localhost/api/v1", nil, true},
		{"http://toloka.dev/api/v1", nil, false},
		{"http://10.0.0.5/api/v1", nil, false},
		{"http://localhost.evil.example/api/v1", nil, false},
		{"http://toloka.internal/api/v1", []Option{WithInsecureHTTP()}, true},
	}
	for _, tt := range tests {
		opts := append([]Option{WithAPIKey(secret), WithBaseURL(tt.url)}, tt.opts...)
		c, err := NewClient(opts...)
		if tt.wantOK {
			assert.NoError(t, err, tt.url)
			assert.NotNil(t, c)
			continue
		}
		require.Error(t, err, tt.url)
		assert.Contains(t, err.Error(), "WithInsecureHTTP")
		assert.NotContains(t, err.Error(), secret)
	}
	// WithEnv goes through the same check.
	env := map[string]string{EnvAPIKey: secret, EnvURL: "http://toloka.dev/api/v1"}
	_, err := NewClient(withEnvLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
}

// twoHosts starts a target server and returns its URL on "localhost", so a
// server on 127.0.0.1 that redirects there redirects to another host.
func twoHosts(t *testing.T, target http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(target)
	t.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
}

func TestRedirectToAnotherHostRefused(t *testing.T) {
	t.Parallel()
	var leaked atomic.Int32
	var targetCalls atomic.Int32
	other := twoHosts(t, func(w http.ResponseWriter, r *http.Request) {
		targetCalls.Add(1)
		if strings.Contains(r.Header.Get("Authorization"), secret) {
			leaked.Add(1)
		}
		_, _ = io.WriteString(w, `{"id":"7"}`)
	})
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other+r.URL.Path, status)
		}))
		t.Cleanup(origin.Close)
		c, err := NewClient(WithAPIKey(secret), WithBaseURL(origin.URL+"/api/v1"))
		require.NoError(t, err)
		_, err = c.GetPool(t.Context(), "7")
		require.Error(t, err, "status %d", status)
		assert.Contains(t, err.Error(), "refusing to follow a redirect")
		assert.NotContains(t, err.Error(), secret)
		var retryErr *RetryError
		assert.False(t, errors.As(err, &retryErr), "a refused redirect is not retried")
	}
	assert.Zero(t, targetCalls.Load(), "the other host was never contacted")
	assert.Zero(t, leaked.Load())
}

func TestRedirectOnSameHostFollowed(t *testing.T) {
	t.Parallel()
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/pools/7" {
			http.Redirect(w, r, "/api/v1/pools/8", http.StatusTemporaryRedirect)
			return
		}
		auth.Store(r.Header.Get("Authorization"))
		_, _ = io.WriteString(w, `{"id":"8"}`)
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(WithAPIKey(secret), WithBaseURL(srv.URL+"/api/v1"))
	require.NoError(t, err)
	pool, err := c.GetPool(t.Context(), "7")
	require.NoError(t, err)
	assert.Equal(t, "8", pool.ID)
	assert.Equal(t, "ApiKey "+secret, auth.Load())
}

func TestRedirectGuardRules(t *testing.T) {
	t.Parallel()
	c := &Client{}
	mk := func(raw string) *http.Request {
		r, err := http.NewRequest("GET", raw, nil)
		require.NoError(t, err)
		return r
	}
	guard := c.redirectGuard(nil)
	from := []*http.Request{mk("https://toloka.dev/api/v1/pools/1")}
	assert.NoError(t, guard(mk("https://toloka.dev/api/v1/pools/2"), from))
	assert.NoError(t, guard(mk("https://TOLOKA.dev/api/v1/pools/2"), from))
	assert.Error(t, guard(mk("https://evil.example/api/v1"), from))
	assert.Error(t, guard(mk("https://api.toloka.dev/api/v1"), from), "net/http would forward to a subdomain; we do not")
	assert.Error(t, guard(mk("https://toloka.dev:8443/api/v1"), from), "another port is another origin")
	assert.Error(t, guard(mk("http://toloka.dev/api/v1"), from), "no downgrade to plain http")
	var ten []*http.Request
	for range 10 {
		ten = append(ten, from[0])
	}
	assert.ErrorContains(t, guard(mk("https://toloka.dev/x"), ten), "10 redirects")

	var calledNext bool
	withNext := c.redirectGuard(func(*http.Request, []*http.Request) error { calledNext = true; return http.ErrUseLastResponse })
	assert.Equal(t, http.ErrUseLastResponse, withNext(mk("https://toloka.dev/x"), from), "the caller's own policy still applies")
	assert.True(t, calledNext)
	assert.Error(t, withNext(mk("https://evil.example/x"), from), "but never overrides the host check")
}

func TestCredentialNeverFormatted(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := map[string]Option{
		"WithAPIKey":         WithAPIKey(secret),
		"WithOAuthToken":     WithOAuthToken(secret),
		"WithRetryPolicy":    WithRetryPolicy(DefaultRetryPolicy()),
		"WithLogger":         WithLogger(logger),
		"WithRequestTimeout": WithRequestTimeout(time.Second),
		"WithInsecureHTTP":   WithInsecureHTTP(),
		"WithBaseURL":        WithBaseURL(SandboxURL),
		"WithUserAgent":      WithUserAgent("app/1"),
		"WithEnv":            WithEnv(),
	}
	c, err := NewClient(opts["WithAPIKey"], opts["WithRetryPolicy"], opts["WithLogger"], opts["WithRequestTimeout"])
	require.NoError(t, err)
	values := map[string]any{"client": c, "*client": *c, "credential": c.credential, "client in a struct": struct{ C Client }{*c}, "policy": DefaultRetryPolicy()}
	for name, o := range opts {
		values[name] = o
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, secret, "%s formatted with %s", name, verb)
			assert.NotContains(t, out, fmt.Sprintf("%x", secret), "%s formatted with %s", name, verb)
		}
	}
	assert.Contains(t, fmt.Sprintf("%v", c), "[REDACTED]")
}

func TestCredentialNeverInErrorsOrPanics(t *testing.T) {
	t.Parallel()
	// Option errors that handle the credential.
	for _, opt := range []Option{WithAPIKey("bad " + secret), WithOAuthToken(secret + "\nx"), WithAPIKey(secret + "\tx")} {
		_, err := NewClient(opt)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), secret)
	}
	// Errors and panics from the send path.
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		switch r.URL.Path {
		case "/api/v1/pools/panic":
			panic("transport exploded")
		case "/api/v1/pools/net":
			return nil, io.ErrUnexpectedEOF
		}
		return jsonResponse(401, `{"code":"AUTHENTICATION_ERROR","message":"Bad key","request_id":"r"}`), nil
	})
	c, _ := newTestClient(t, rt, WithRetryPolicy(RetryPolicy{MaxRetries: 1}))
	for _, id := range []string{"net", "auth"} {
		_, err := c.GetPool(t.Context(), id)
		require.Error(t, err)
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			assert.NotContains(t, fmt.Sprintf(verb, err), secret)
		}
	}
	func() {
		defer func() {
			r := recover()
			require.NotNil(t, r, "a panicking transport propagates")
			assert.NotContains(t, fmt.Sprint(r), secret)
		}()
		_, _ = c.GetPool(t.Context(), "panic")
	}()
}

func TestLogging(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("POST", `=~^`+testBaseURL+`/tasks`,
		httpmock.NewStringResponder(503, `{"code":"REMOTE_SERVICE_UNAVAILABLE","message":"input_values secret-input","request_id":"req-503"}`).
			Then(httpmock.NewStringResponder(201, `{"id":"op","status":"RUNNING","type":"TASK.BATCH_CREATE"}`)))
	c, _ := newTestClient(t, mt, WithRetryPolicy(testPolicy), WithLogger(logger))
	_, err := c.CreateTasksAsync(t.Context(), []Task{{PoolID: "1", InputValues: Values{"image": "body-marker"}}},
		WithOperationID("281073ea-ab34-416e-a028-47421ff1b166"), SkipValidation())
	require.NoError(t, err)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, "one line per attempt:\n%s", buf.String())
	assert.Contains(t, lines[0], "level=DEBUG")
	assert.Contains(t, lines[0], "method=POST path=/tasks status=503 attempt=1 delay=50ms request_id=req-503")
	assert.Contains(t, lines[0], "code=REMOTE_SERVICE_UNAVAILABLE")
	assert.Contains(t, lines[0], "outcome=retry")
	assert.Contains(t, lines[1], "status=201 attempt=2 delay=0s")
	assert.Contains(t, lines[1], "outcome=ok")
	for _, forbidden := range []string{secret, "body-marker", "secret-input", "operation_id", "281073ea", "Authorization"} {
		assert.NotContains(t, buf.String(), forbidden)
	}

	// Network errors are logged with their text; the credential still never.
	buf.Reset()
	rt := rtFunc(func(*http.Request) (*http.Response, error) { return nil, dialError() })
	c2, _ := newTestClient(t, rt, WithRetryPolicy(RetryPolicy{MaxRetries: 1}), WithLogger(logger))
	_, err = c2.GetPool(t.Context(), "7")
	require.Error(t, err)
	assert.Equal(t, 2, strings.Count(buf.String(), "\n"))
	assert.Contains(t, buf.String(), "connection refused")
	assert.Contains(t, buf.String(), "outcome=failed")
	assert.NotContains(t, buf.String(), secret)

	_, err = NewClient(WithAPIKey("k"), WithLogger(nil))
	assert.Error(t, err)
}

func TestSilentByDefault(t *testing.T) {
	// Not parallel: it swaps the process-wide default logger to prove the
	// client never writes to it.
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(prev)
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", testBaseURL+"/pools/7",
		httpmock.NewStringResponder(500, ``).Then(httpmock.NewStringResponder(200, `{"id":"7"}`)))
	c, _ := newTestClient(t, mt)
	_, err := c.GetPool(context.Background(), "7")
	require.NoError(t, err)
	assert.Empty(t, buf.String())
}

func TestPathSegmentsEscaped(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var paths []string
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		paths = append(paths, r.URL.EscapedPath())
		mu.Unlock()
		return jsonResponse(200, `{"id":"x"}`), nil
	})
	c, _ := newTestClient(t, rt)
	for _, id := range []string{"../projects/1", "a/b", "1?x=y", "1#frag", "%2e%2e", "..%2f", " 1", "a b"} {
		_, err := c.GetPool(t.Context(), id)
		require.NoError(t, err, id)
	}
	require.Len(t, paths, 8)
	for _, p := range paths {
		assert.True(t, strings.HasPrefix(p, "/api/v1/pools/"), p)
		rest := strings.TrimPrefix(p, "/api/v1/pools/")
		assert.NotContains(t, rest, "/", "the id stays one segment: %s", p)
		assert.NotContains(t, rest, "?")
		assert.NotContains(t, rest, "#")
	}
	for _, id := range []string{"..", ".", "", "  "} {
		_, err := c.GetOperation(t.Context(), id)
		assert.Error(t, err, "%q", id)
	}
	assert.Len(t, paths, 8, "rejected ids send nothing")
}

func TestBoundedBodies(t *testing.T) {
	t.Parallel()
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	endless := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}
	}
	huge := func(status int, size int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			for written := 0; written < size; written += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"endless success body", endless(200), "response larger than 65536 bytes"},
		{"huge success body", huge(200, 4<<20), "response larger than 65536 bytes"},
		{"endless error body", endless(400), "400 Bad Request"},
		{"huge error body", huge(404, 8<<20), "404 Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				tt.handler(w, r)
			}))
			t.Cleanup(srv.Close)
			c, err := NewClient(WithAPIKey(secret), WithBaseURL(srv.URL), WithRetryPolicy(testPolicy))
			require.NoError(t, err)
			c.maxBody = 64 << 10
			_, err = c.GetPool(t.Context(), "7")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, int32(1), calls.Load(), "neither an oversized body nor a 4xx is retried")
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				assert.LessOrEqual(t, len(apiErr.Body), bodyExcerptLen+len("…"), "the kept excerpt is bounded")
			}
		})
	}
}

func TestDefaultTransportTimeouts(t *testing.T) {
	t.Parallel()
	c, err := NewClient(WithAPIKey("k"))
	require.NoError(t, err)
	assert.Zero(t, c.httpClient.Timeout, "no overall timeout that would cut long uploads")
	tr, ok := c.httpClient.Transport.(*http.Transport)
	require.True(t, ok)
	assert.Equal(t, defaultResponseHeaderTimeout, tr.ResponseHeaderTimeout)
	assert.NotSame(t, http.DefaultTransport, c.httpClient.Transport, "the shared default transport is never modified")
	assert.Zero(t, http.DefaultTransport.(*http.Transport).ResponseHeaderTimeout)

	// A caller's client is copied, and the guard is added to the copy only.
	own := &http.Client{Timeout: time.Minute}
	c2, err := NewClient(WithAPIKey("k"), WithHTTPClient(own))
	require.NoError(t, err)
	assert.Nil(t, own.CheckRedirect)
	assert.NotNil(t, c2.httpClient.CheckRedirect)
}

func TestEchoedCredentialIsScrubbedFromErrors(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", `=~/pools/1$`, httpmock.NewStringResponder(401, `<html>bad header: ApiKey `+secret+`</html>`))
	mt.RegisterResponder("GET", `=~/pools/2$`, httpmock.NewStringResponder(400, `{"code":"VALIDATION_ERROR","message":"header `+secret+` is odd"}`))
	mt.RegisterResponder("GET", `=~/pools/3$`, httpmock.NewStringResponder(200, `{"id": "`+secret))
	c, _ := newTestClient(t, mt, WithRetryPolicy(RetryPolicy{}))
	for _, id := range []string{"1", "2", "3"} {
		_, err := c.GetPool(t.Context(), id)
		require.Error(t, err)
		assert.NotContains(t, fmt.Sprintf("%v %+v", err, err), secret, id)
		assert.Contains(t, err.Error(), "[REDACTED]", id)
	}
}
