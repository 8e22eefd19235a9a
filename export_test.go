package toloka

import (
	"context"
	"time"
)

// WithRetryHooks replaces the retry loop's sleeper, clock and random source
// (nil keeps the default). It exists only in this package's test binary, so
// tests in package toloka_test — such as a soak test against tolokatest —
// can record every backoff and never sleep, without a public hook.
func WithRetryHooks(sleep func(context.Context, time.Duration) error, now func() time.Time, random func() float64) Option {
	return func(c *Client) error {
		if sleep != nil {
			c.sleep = sleep
		}
		if now != nil {
			c.now = now
		}
		if random != nil {
			c.random = random
		}
		return nil
	}
}

// WithWaitSleeper replaces the pause between polls of WaitOperation and the
// *AndWait calls for one call. Like WithRetryHooks it exists only in this
// package's test binary, so tests in package toloka_test can pace a wait on
// tolokatest without sleeping.
func WithWaitSleeper(sleep func(context.Context, time.Duration) error) CallOption {
	return withSleeper(sleep)
}
