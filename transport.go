package toloka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// retryClass says whether a request may be sent again after a failure whose
// outcome is unknown.
type retryClass int

const (
	// retryUnsafe: sync creates, which have no idempotency key; a repeat of a
	// request the server applied would create the items twice. It is the
	// zero value, so a request that forgets to say is never resent blindly.
	retryUnsafe retryClass = iota
	// retrySafe: reads, and async creates that carry an operation_id, which
	// Toloka deduplicates.
	retrySafe
)

// apiRequest is one API call before it is sent.
type apiRequest struct {
	method string
	path   string // relative to the base URL, segments already escaped
	query  url.Values
	body   []byte // encoded JSON, or nil
	retry  retryClass
}

// resourcePath joins a collection and an id into a path, escaping the id so
// that "/" or ".." in it cannot change the route.
func resourcePath(collection, id string, rest ...string) (string, error) {
	if strings.TrimSpace(id) == "" {
		return "", fmt.Errorf("toloka: empty %s id", strings.TrimSuffix(collection, "s"))
	}
	if id == "." || id == ".." {
		return "", fmt.Errorf("toloka: %q is not a valid %s id", id, strings.TrimSuffix(collection, "s"))
	}
	parts := append([]string{collection, url.PathEscape(id)}, rest...)
	return strings.Join(parts, "/"), nil
}

// encodeJSON encodes a request body.
func encodeJSON(v any) ([]byte, error) {
	data, err := marshalJSON(v)
	if err != nil {
		return nil, fmt.Errorf("toloka: encoding request: %w", err)
	}
	return data, nil
}

// maxSuccessBody bounds how much of a 2xx response is read into memory. A
// 5,000-item sync batch echoes at most the 1 MiB input and 4 MiB output
// budgets of its request (toloka-api.md §2.5) plus ids and timestamps, far
// below it; a hostile or broken server cannot make the client hold more.
// Responses read through send (operation logs) are streamed and bounded by
// their readers.
const maxSuccessBody = 64 << 20

// AttemptHeader is sent with every request, numbering its attempts from 1, so
// server logs and tolokatest can tell a retry from a new request. Toloka
// ignores it.
const AttemptHeader = "X-Request-Attempt"

// send performs the request through the retry loop and returns a 2xx response
// whose body the caller must close; the body is not read, so a caller can
// stream it, and a failure while reading it is not retried. Any other status
// becomes an *APIError (possibly wrapped; see roundTrip). When ctx is done,
// its error is what the caller sees.
func (c *Client) send(ctx context.Context, r *apiRequest, cfg *callConfig) (*http.Response, error) {
	resp, _, err := c.roundTrip(ctx, r, cfg, false)
	return resp, err
}

// doJSON sends the request and decodes a 2xx body into out (when out is not
// nil). The body is read inside the attempt, bounded by maxSuccessBody, so a
// connection lost mid-body is retried like any network error.
func (c *Client) doJSON(ctx context.Context, r *apiRequest, out any, opts []CallOption) error {
	cfg := newCallConfig(opts)
	resp, data, err := c.roundTrip(ctx, r, cfg, true)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return unreadableAnswer(r, fmt.Errorf("toloka: %s /%s: decoding %d response: %w (body %q)", r.method, r.path, resp.StatusCode, err, excerpt(c.scrub(data))))
	}
	return nil
}

// scrub removes the credential from a response body before any of it can
// reach an error: a proxy or a broken server may echo the request's headers.
// Credentials shorter than 8 bytes (test keys) are left alone, as replacing
// them would mangle ordinary text.
func (c *Client) scrub(body []byte) []byte {
	secret := c.credential.value()
	if len(secret) < 8 || !bytes.Contains(body, []byte(secret)) {
		return body
	}
	return bytes.ReplaceAll(body, []byte(secret), []byte("[REDACTED]"))
}

// unreadableAnswer classifies a 2xx answer the client cannot read. For a
// sync create the request was applied, but which items exist is unknown, so
// the error matches ErrOutcomeUnknown like a lost answer does.
func unreadableAnswer(r *apiRequest, err error) error {
	if r.retry == retryUnsafe {
		return &outcomeUnknownError{method: r.method, path: r.path, cause: err}
	}
	return err
}

// roundTrip is the one retry loop every request goes through. With buffered
// set it reads the 2xx body inside the attempt and returns it, and the
// response's body is already closed.
//
// Each attempt first waits for the client's rate limiter, then sends; a failed
// attempt is judged by the call's RetryPolicy (retry.go), logged, and followed
// by a ctx-aware sleep. The error returned is the last attempt's, wrapped in
// *RetryError when at least one retry was made, or ctx.Err() once ctx is
// done.
func (c *Client) roundTrip(ctx context.Context, r *apiRequest, cfg *callConfig, buffered bool) (*http.Response, []byte, error) {
	policy := c.retryPolicy
	if cfg != nil && cfg.retry != nil {
		policy = *cfg.retry
		if err := policy.validate(); err != nil {
			return nil, nil, err
		}
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				if ctxErr := ctx.Err(); ctxErr != nil {
					return nil, nil, ctxErr
				}
				return nil, nil, withAttempts(fmt.Errorf("toloka: %s /%s: waiting for the rate limiter: %w", r.method, r.path, err), attempt-1)
			}
		}
		res := c.attempt(ctx, r, attempt, buffered)
		if res.ctxErr != nil {
			c.logAttempt(ctx, r, attempt, res, verdict{err: res.ctxErr})
			return nil, nil, res.ctxErr
		}
		if res.fail == nil {
			c.logAttempt(ctx, r, attempt, res, verdict{})
			return res.resp, res.body, nil
		}
		v := policy.judge(r, *res.fail, attempt-1, c.now(), c.random())
		if v.retry {
			// A wait that would outlast the deadline only delays the error.
			if deadline, ok := ctx.Deadline(); ok && c.now().Add(v.delay).After(deadline) {
				v.retry = false
			}
		}
		c.logAttempt(ctx, r, attempt, res, v)
		if !v.retry {
			return nil, nil, withAttempts(v.err, attempt)
		}
		if err := c.sleep(ctx, v.delay); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, nil, ctxErr
			}
			return nil, nil, err
		}
	}
}

// withAttempts wraps the final error in *RetryError once a retry was made.
func withAttempts(err error, attempts int) error {
	if attempts <= 1 {
		return err
	}
	return &RetryError{Attempts: attempts, Err: err}
}

// attemptResult is the outcome of one send: a 2xx response, a failure for
// the loop to judge, or the end of the caller's ctx.
type attemptResult struct {
	resp      *http.Response
	body      []byte
	status    int // 0 when no response arrived
	requestID string
	fail      *failure
	ctxErr    error
}

// attempt sends the request once, under the per-attempt timeout if one is set.
// Error bodies are read (at most maxErrorBody) and closed here, so the
// connection can be reused before the next attempt.
func (c *Client) attempt(ctx context.Context, r *apiRequest, n int, buffered bool) attemptResult {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if c.attemptTimeout > 0 {
		actx, cancel = context.WithTimeout(ctx, c.attemptTimeout)
	}
	req, err := c.newHTTPRequest(actx, r, n)
	if err != nil {
		cancel()
		return attemptResult{fail: &failure{err: err, permanent: true}}
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		cancel()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return attemptResult{ctxErr: ctxErr}
		}
		return attemptResult{fail: c.transportFailure(r, actx, stripURLError(err), "")}
	}
	res := attemptResult{status: resp.StatusCode, requestID: resp.Header.Get("X-Request-Id")}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if !buffered {
			resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
			res.resp = resp
			return res
		}
		defer cancel()
		data, err := readBounded(resp.Body, c.maxBody)
		resp.Body.Close()
		resp.Body = http.NoBody
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return attemptResult{ctxErr: ctxErr}
			}
			res.fail = c.transportFailure(r, actx, err, fmt.Sprintf("reading the %d response", resp.StatusCode))
			return res
		}
		res.resp, res.body = resp, data
		return res
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	cancel()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return attemptResult{ctxErr: ctxErr}
	}
	apiErr := newAPIError(r.method, "/"+r.path, resp.StatusCode, c.scrub(data))
	if apiErr.RequestID != "" {
		res.requestID = apiErr.RequestID
	}
	res.fail = &failure{err: apiErr, apiErr: apiErr, header: resp.Header}
	return res
}

// transportFailure describes a failure without a usable response.
func (c *Client) transportFailure(r *apiRequest, actx context.Context, cause error, doing string) *failure {
	prefix := fmt.Sprintf("toloka: %s /%s", r.method, r.path)
	if doing != "" {
		prefix += ": " + doing
	}
	var err error
	if actx.Err() != nil && c.attemptTimeout > 0 {
		err = fmt.Errorf("%s: attempt timed out after %s: %w", prefix, c.attemptTimeout, cause)
	} else {
		err = fmt.Errorf("%s: %w", prefix, cause)
	}
	return &failure{err: err, notApplied: notApplied(cause), permanent: permanentTransportError(cause)}
}

// newHTTPRequest builds one attempt's request. The body is a fresh reader
// over the encoded bytes each time. http.NewRequest sets GetBody, which lets
// net/http itself replay the body (a redirect, an HTTP/2 stream reset); a
// sync create must never be replayed behind the SDK's back, so for it
// GetBody is cleared and only the retry loop decides.
func (c *Client) newHTTPRequest(ctx context.Context, r *apiRequest, attempt int) (*http.Request, error) {
	u := c.baseURL + "/" + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("toloka: building %s /%s: %w", r.method, r.path, err)
	}
	req.Header.Set("Authorization", c.credential.header())
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	req.Header.Set(AttemptHeader, strconv.Itoa(attempt))
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.retry == retryUnsafe {
		req.GetBody = nil
	}
	return req, nil
}

// stripURLError drops the *url.Error wrapper, whose text repeats the full
// URL; the callers name the method and path themselves.
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// responseTooLargeError is a 2xx body over the client's bound. It is not
// retried: the server would send the same body again.
type responseTooLargeError struct{ limit int64 }

func (e *responseTooLargeError) Error() string {
	return fmt.Sprintf("response larger than %d bytes", e.limit)
}

// readBounded reads all of body, failing once it exceeds limit bytes.
func readBounded(body io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &responseTooLargeError{limit: limit}
	}
	return data, nil
}

// cancelOnClose ends a streamed attempt's timeout context when the caller
// closes the body.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// logAttempt writes one debug line per attempt. It logs the method, the path
// without its query, the status, the attempt number, the delay before the
// next attempt and Toloka's request_id; never a body, a header or the
// credential. API errors are logged by code only, since their messages may
// quote the request.
func (c *Client) logAttempt(ctx context.Context, r *apiRequest, attempt int, res attemptResult, v verdict) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.method),
		slog.String("path", "/"+r.path),
		slog.Int("status", res.status),
		slog.Int("attempt", attempt),
		slog.Duration("delay", v.delay),
		slog.String("request_id", res.requestID),
	}
	outcome := "ok"
	switch {
	case res.ctxErr != nil:
		outcome = "canceled"
		attrs = append(attrs, slog.String("error", res.ctxErr.Error()))
	case res.fail != nil && v.retry:
		outcome = "retry"
	case res.fail != nil:
		outcome = "failed"
	}
	if res.fail != nil {
		if res.fail.apiErr != nil {
			attrs = append(attrs, slog.String("code", res.fail.apiErr.Code))
		} else {
			attrs = append(attrs, slog.String("error", res.fail.err.Error()))
		}
	}
	attrs = append(attrs, slog.String("outcome", outcome))
	c.logger.LogAttrs(ctx, slog.LevelDebug, "toloka: request attempt", attrs...)
}

// stream sends the request and hands the 2xx body to read unbuffered, for
// bodies too large to hold at once (operation logs, toloka-api.md §6.2). A
// failure while reading is not retried: read may already have acted on part
// of the body.
func (c *Client) stream(ctx context.Context, r *apiRequest, opts []CallOption, read func(io.Reader) error) error {
	resp, err := c.send(ctx, r, newCallConfig(opts))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := read(resp.Body); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return err
	}
	return nil
}
