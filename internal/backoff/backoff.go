// Package backoff holds the pure arithmetic of the SDK's retry loop: the
// exponential delay with full jitter and the parsing of Retry-After. It has
// no clock, no sleep and no randomness of its own, so every result is a
// function of its arguments and tests need no time to pass.
package backoff

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FullJitter returns the delay before retry number retry (0 for the first
// retry): r × min(maxDelay, base × 2^retry), with r drawn by the caller from
// [0, 1). This is the "full jitter" scheme: clients that failed together
// spread their retries over the whole window instead of retrying in step.
//
// Negative inputs count as zero, r is clamped to [0, 1), and the doubling
// saturates at maxDelay instead of overflowing.
func FullJitter(base, maxDelay time.Duration, retry int, r float64) time.Duration {
	ceiling := Ceiling(base, maxDelay, retry)
	if r <= 0 || math.IsNaN(r) {
		return 0
	}
	if r >= 1 {
		r = math.Nextafter(1, 0)
	}
	return time.Duration(r * float64(ceiling))
}

// Ceiling returns min(maxDelay, base × 2^retry), the largest delay FullJitter
// can return for that retry.
func Ceiling(base, maxDelay time.Duration, retry int) time.Duration {
	if base <= 0 || maxDelay <= 0 {
		return 0
	}
	if retry < 0 {
		retry = 0
	}
	d := base
	for i := 0; i < retry; i++ {
		if d >= maxDelay || d > math.MaxInt64/2 {
			return maxDelay
		}
		d *= 2
	}
	return min(d, maxDelay)
}

// ParseRetryAfter reads a Retry-After header value, either delay-seconds
// ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", and the two
// obsolete forms http.ParseTime accepts), relative to now. A date in the
// past means "now" and yields 0. It reports false for an absent or malformed
// value, including negative or fractional seconds, which RFC 9110 §10.2.3
// does not allow; the caller then falls back to its own backoff.
func ParseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if isDigits(value) {
		secs, err := strconv.ParseInt(value, 10, 64)
		if err != nil || secs > int64(math.MaxInt64/time.Second) {
			// Too many digits to be a real request: treat as "very long", which
			// the caller caps anyway.
			return time.Duration(math.MaxInt64), true
		}
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	if d := at.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
