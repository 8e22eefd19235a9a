package toloka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gotoloka/toloka/internal/backoff"
)

// RetryPolicy says how the client retries a request that failed in a way a
// later attempt may not: a network error, or HTTP 408, 429, 500, 502, 503 or
// 504. Set it for a client with WithRetryPolicy; pass a RetryPolicy as a
// CallOption to override it for one call.
//
// Every request goes through the same loop. The delay before retry n (n = 0
// for the first retry) is drawn uniformly from [0, min(MaxDelay,
// BaseDelay×2^n)) ("full jitter"). A Retry-After header (seconds or
// HTTP-date) replaces that delay, capped at MaxDelay. A per-minute quota 429
// (payload.interval "MIN", toloka-api.md §17.2) waits for the quota to reset,
// capped at MaxQuotaWait; hourly and daily quotas are never waited out: the
// call fails at once with a *RateLimitError. All waits end when the call's ctx
// does, and a wait that would outlast the ctx deadline is not started.
//
// Retries never duplicate work: reads and async creates (which carry an
// operation_id) are resent freely, while a sync create is resent only when
// Toloka cannot have applied it — see ErrOutcomeUnknown.
//
// The zero RetryPolicy never retries. A policy with MaxRetries > 0 and zero
// delays retries at once, which suits tests against tolokatest.
type RetryPolicy struct {
	// MaxRetries is how many times a request is resent after its first
	// attempt: MaxRetries 4 means at most 5 attempts. It counts retries, not
	// attempts.
	MaxRetries int
	// BaseDelay is the backoff ceiling of the first retry; it doubles with
	// each further retry.
	BaseDelay time.Duration
	// MaxDelay caps the backoff and any Retry-After the server sends, so a
	// "Retry-After: 86400" cannot park an upload for a day.
	MaxDelay time.Duration
	// MaxQuotaWait caps the wait for a per-minute quota to reset (a minute,
	// or the server's Retry-After). When it is shorter than that, the request
	// is retried after MaxQuotaWait and may meet the quota again.
	MaxQuotaWait time.Duration
}

// DefaultRetryPolicy returns the policy a client uses unless told otherwise:
// 4 retries (5 attempts), a 500 ms base delay doubling up to 30 s, and
// per-minute quotas waited out for up to 90 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxRetries:   4,
		BaseDelay:    500 * time.Millisecond,
		MaxDelay:     30 * time.Second,
		MaxQuotaWait: 90 * time.Second,
	}
}

func (p RetryPolicy) applyCall(c *callConfig) { c.retry = &p }

func (p RetryPolicy) validate() error {
	switch {
	case p.MaxRetries < 0:
		return fmt.Errorf("toloka: RetryPolicy.MaxRetries is %d; use 0 for no retries", p.MaxRetries)
	case p.BaseDelay < 0, p.MaxDelay < 0, p.MaxQuotaWait < 0:
		return fmt.Errorf("toloka: RetryPolicy delays must not be negative (BaseDelay %s, MaxDelay %s, MaxQuotaWait %s)", p.BaseDelay, p.MaxDelay, p.MaxQuotaWait)
	}
	return nil
}

// WithRetryPolicy sets the client's retry policy (DefaultRetryPolicy when not
// given; RetryPolicy{} turns retries off). A call may override it by passing
// a RetryPolicy among its CallOptions.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *Client) error {
		if err := p.validate(); err != nil {
			return err
		}
		c.retryPolicy = p
		return nil
	}
}

// ErrOutcomeUnknown matches (errors.Is) the error of a synchronous create
// whose request may have reached Toloka but whose answer was lost or was a
// server error (500, 502, 503, 504, 408, a dropped connection, a timeout).
// The items may or may not have been created. A sync create carries no
// idempotency key, so the SDK does not resend it: a resend could create every
// item twice. Check the pool (GET /tasks?pool_id=...) before sending the
// items again, or use the async create calls, which carry an operation_id and
// are retried exactly-once. The error also wraps its cause, so errors.As to
// *APIError still works when there was a response.
//
// A call whose ctx ends while a sync create is in flight returns ctx.Err();
// its outcome is unknown in the same way.
const ErrOutcomeUnknown Error = "toloka: outcome unknown"

// outcomeUnknownError is returned for an unsafe request that may have been
// applied.
type outcomeUnknownError struct {
	method, path string
	cause        error
}

func (e *outcomeUnknownError) Error() string {
	return fmt.Sprintf("toloka: %s /%s: outcome unknown, the request may or may not have been applied; "+
		"it was not resent because a sync create has no idempotency key: check what was created before "+
		"sending it again, or use the async create calls, which are exactly-once: %v", e.method, e.path, e.cause)
}

func (e *outcomeUnknownError) Unwrap() error { return e.cause }

func (e *outcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Quota intervals of a 429's payload.interval (toloka-api.md §17.2).
const (
	QuotaMinute = "MIN"
	QuotaHour   = "HOUR"
	QuotaDay    = "DAY"
)

// RateLimitError is every 429 Too Many Requests the client gives up on: a
// burst over the 300 requests/s limit that outlasted the retries, or a
// per-method quota (toloka-api.md §17). Hourly and daily quotas are returned
// at once, without retrying, so the caller decides whether to wait. It wraps
// the *APIError and matches ErrRateLimited.
type RateLimitError struct {
	// Interval is the quota's payload.interval: QuotaMinute, QuotaHour,
	// QuotaDay, another value Toloka may add, or "" when the body named none
	// (the per-second limit).
	Interval string
	// RetryAfter is how long the server asked to wait (Retry-After), or, when
	// it did not say, the length of the quota's interval — an upper bound, as
	// the quota may reset sooner — or 0 when unknown.
	RetryAfter time.Duration
	// Err is the 429 response.
	Err *APIError
}

// Error describes the 429 and which limit was hit; it never contains the
// credential.
func (e *RateLimitError) Error() string {
	what := "rate limit"
	switch e.Interval {
	case QuotaMinute:
		what = "per-minute quota exhausted"
	case QuotaHour:
		what = "hourly quota exhausted"
	case QuotaDay:
		what = "daily quota exhausted"
	case "":
	default:
		what = fmt.Sprintf("quota %q exhausted", e.Interval)
	}
	if e.RetryAfter > 0 {
		what += fmt.Sprintf(", retry after %s", e.RetryAfter)
	}
	return fmt.Sprintf("%v [%s]", e.Err, what)
}

// Unwrap returns the *APIError.
func (e *RateLimitError) Unwrap() error { return e.Err }

// Is matches ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// newRateLimitError reads payload.interval from a 429 (an inferred shape,
// toloka-api.md §17.2; matched case-insensitively).
func newRateLimitError(apiErr *APIError, retryAfter time.Duration, hasRetryAfter bool) *RateLimitError {
	e := &RateLimitError{Err: apiErr}
	var payload struct {
		Interval string `json:"interval"`
	}
	if len(apiErr.Payload) > 0 && json.Unmarshal(apiErr.Payload, &payload) == nil {
		e.Interval = strings.ToUpper(strings.TrimSpace(payload.Interval))
	}
	switch {
	case hasRetryAfter && retryAfter > 0:
		// A Retry-After beyond a day says nothing a day-long quota would not.
		e.RetryAfter = min(retryAfter, 24*time.Hour)
	case e.Interval == QuotaMinute:
		e.RetryAfter = time.Minute
	case e.Interval == QuotaHour:
		e.RetryAfter = time.Hour
	case e.Interval == QuotaDay:
		e.RetryAfter = 24 * time.Hour
	}
	return e
}

// RetryError is the error of a request that failed after at least one retry.
// It records how many attempts were made and wraps the last attempt's error,
// so errors.As to *APIError or *RateLimitError and errors.Is with the
// sentinels see through it. A request that fails on its first attempt without
// being retried returns that attempt's error unwrapped.
type RetryError struct {
	// Attempts is the number of times the request was sent (retries + 1).
	Attempts int
	// Err is the last attempt's error.
	Err error
}

// Error is the last attempt's error followed by the number of attempts.
func (e *RetryError) Error() string {
	return fmt.Sprintf("%v (gave up after %d attempts)", e.Err, e.Attempts)
}

// Unwrap returns the last attempt's error.
func (e *RetryError) Unwrap() error { return e.Err }

// failure is one failed attempt, as the retry loop sees it.
type failure struct {
	err    error       // what the caller would see: *APIError or a transport error
	apiErr *APIError   // set when there was a non-2xx response
	header http.Header // the response's header, when there was a response
	// notApplied: the server cannot have acted on the request, because the
	// connection was never established (a dial error).
	notApplied bool
	// permanent: a transport failure a retry cannot cure (certificates, a
	// refused redirect, an oversized response).
	permanent bool
}

// verdict is what the loop does next.
type verdict struct {
	retry bool
	delay time.Duration
	err   error // returned to the caller when !retry, or when a retry is impossible
}

// judge decides about a failed attempt; retries is how many retries were
// already made. It is pure: the clock reading and the random draw in [0, 1)
// come in as arguments.
func (p RetryPolicy) judge(r *apiRequest, f failure, retries int, now time.Time, rnd float64) verdict {
	backoffDelay := backoff.FullJitter(p.BaseDelay, p.MaxDelay, retries, rnd)
	if f.apiErr != nil {
		status := f.apiErr.StatusCode
		hinted, hasHint := backoff.ParseRetryAfter(f.header.Get("Retry-After"), now)
		retryAfter, hasRetryAfter := hinted, hasHint
		if hasRetryAfter && retryAfter <= 0 {
			// "0" or a date in the past: no real hint, so the backoff's own
			// delay keeps the retries from all firing at once.
			retryAfter = backoffDelay
		}
		if status == http.StatusTooManyRequests {
			// A 429 is a refusal: nothing was applied, so even a sync create
			// may be resent.
			rle := newRateLimitError(f.apiErr, hinted, hasHint)
			var delay time.Duration
			switch rle.Interval {
			case "":
				delay = backoffDelay
				if hasRetryAfter {
					delay = min(retryAfter, p.MaxDelay)
				}
			case QuotaMinute:
				need := time.Minute
				if hasRetryAfter {
					need = retryAfter
				}
				delay = min(need, p.MaxQuotaWait)
			default:
				// Hours or days, or an interval this SDK does not know: waiting
				// inside a call is never the right default (toloka-api.md §17.3).
				return verdict{err: rle}
			}
			return p.retryAfter(delay, retries, rle)
		}
		if !retryableStatus(status) {
			return verdict{err: f.err}
		}
		if r.retry == retryUnsafe {
			return verdict{err: &outcomeUnknownError{method: r.method, path: r.path, cause: f.err}}
		}
		delay := backoffDelay
		if hasRetryAfter {
			delay = min(retryAfter, p.MaxDelay)
		}
		return p.retryAfter(delay, retries, f.err)
	}
	if f.permanent {
		var tooLarge *responseTooLargeError
		if r.retry == retryUnsafe && errors.As(f.err, &tooLarge) {
			// Toloka answered 2xx: the items exist, but which is unknown.
			return verdict{err: &outcomeUnknownError{method: r.method, path: r.path, cause: f.err}}
		}
		return verdict{err: f.err}
	}
	if r.retry == retryUnsafe && !f.notApplied {
		return verdict{err: &outcomeUnknownError{method: r.method, path: r.path, cause: f.err}}
	}
	return p.retryAfter(backoffDelay, retries, f.err)
}

func (p RetryPolicy) retryAfter(delay time.Duration, retries int, err error) verdict {
	if retries >= p.MaxRetries {
		return verdict{err: err}
	}
	return verdict{retry: true, delay: delay, err: err}
}

// retryableStatus lists the statuses worth another attempt (toloka-api.md §11,
// plus 502, which Toloka's proxies send for a passing outage).
func retryableStatus(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// notApplied reports whether a transport error proves the request never
// reached the server: the connection (or the proxy tunnel) was never
// established. Errors after that point — a reset, an EOF, a timeout waiting
// for the answer — leave the outcome unknown.
func notApplied(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Op == "dial" || opErr.Op == "proxyconnect"
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

// permanentTransportError reports transport failures that another attempt
// cannot fix.
func permanentTransportError(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verification     *tls.CertificateVerificationError
		redirect         *redirectError
		tooLarge         *responseTooLargeError
	)
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verification) || errors.As(err, &redirect) || errors.As(err, &tooLarge)
}

// sleepContext waits for d on a timer, returning early with ctx's error when
// ctx ends first.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
