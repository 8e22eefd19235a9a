package toloka

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/time/rate"
)

// MaxRequestsPerSecond is Toloka's global request rate; above it the API
// answers 429 (toloka-api.md §17.1).
const MaxRequestsPerSecond = 300

// RateLimiter paces requests: the client calls Wait before every attempt,
// retries included, and gives up on the attempt when Wait fails. It must be
// safe for concurrent use. *rate.Limiter from golang.org/x/time/rate
// satisfies it, as does the limiter NewRateLimiter returns.
type RateLimiter interface {
	Wait(ctx context.Context) error
}

// NewRateLimiter returns a limiter that lets through at most rps requests
// per second on average (a token bucket with a burst of 1, so requests are
// spaced evenly rather than bunched). rps must be in (0, MaxRequestsPerSecond].
// Share one limiter among all clients and goroutines that use the same API
// key, because Toloka counts their requests together; pass it to each client
// with WithRateLimiter.
func NewRateLimiter(rps float64) (*rate.Limiter, error) {
	if !(rps > 0 && rps <= MaxRequestsPerSecond) {
		return nil, fmt.Errorf("toloka: rate limit %v requests/s: want more than 0 and at most %d", rps, MaxRequestsPerSecond)
	}
	return rate.NewLimiter(rate.Limit(rps), 1), nil
}

// WithRateLimiter paces every request of the client through l (see
// RateLimiter). Without it the client does not pace itself and relies on
// retrying Toloka's 429s. Waiting for l counts against the call's ctx.
func WithRateLimiter(l RateLimiter) Option {
	return func(c *Client) error {
		if l == nil {
			return errors.New("toloka: nil RateLimiter; leave WithRateLimiter out for no pacing")
		}
		c.limiter = l
		return nil
	}
}
