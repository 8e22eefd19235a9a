package tolokatest

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gotoloka/toloka"
)

// Clock tells the server the time, for timestamps, rate-limit windows and
// quotas. A Clock may also implement RealDuration to say how long a span of
// its time lasts in real time; the server uses that for Retry-After.
type Clock interface {
	Now() time.Time
}

type realDurationer interface {
	RealDuration(d time.Duration) time.Duration
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// ManualClock is a clock that moves only when told: tests advance it instead
// of sleeping. It is safe for concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock that reads start until advanced.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (a negative d is ignored: time in the
// fake never runs backwards).
func (c *ManualClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// ScaledClock runs factor times faster than real time from its start, so a
// test can see a per-minute quota reset after 100 ms (factor 600).
type ScaledClock struct {
	factor    float64
	start     time.Time
	realStart time.Time
}

// NewScaledClock returns a clock starting at start and running factor times
// faster than the wall clock. factor must be positive.
func NewScaledClock(start time.Time, factor float64) *ScaledClock {
	if factor <= 0 {
		factor = 1
	}
	return &ScaledClock{factor: factor, start: start, realStart: time.Now()}
}

// Now returns the scaled time.
func (c *ScaledClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.realStart)) * c.factor))
}

// RealDuration converts a span of the clock's time into wall time.
func (c *ScaledClock) RealDuration(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.factor)
}

// Quota is a per-method item quota (toloka-api.md §17.4): at most PerMinute
// items in a clock minute and PerDay in a clock day; zero means unlimited.
// Items are counted when a create request is accepted, sync or async.
type Quota struct {
	PerMinute int
	PerDay    int
}

// TaskQuota returns the documented task quota: 200,000 a minute, 4,000,000 a day.
func TaskQuota() Quota { return Quota{PerMinute: 200_000, PerDay: 4_000_000} }

// SuiteQuota returns the documented suite quota: 100,000 a minute, 2,000,000 a day.
func SuiteQuota() Quota { return Quota{PerMinute: 100_000, PerDay: 2_000_000} }

// WithRateLimit refuses more than rps requests per clock second with 429
// TOO_MANY_REQUESTS and no payload.interval (toloka-api.md §17.1; Toloka's
// figure is 300). Zero, the default, means no limit.
func WithRateLimit(rps int) Option { return func(cfg *config) { cfg.requestsPerSecond = rps } }

// WithTaskQuota limits the tasks POST /tasks accepts per minute and per day;
// a request over it answers 429 with payload.interval "MIN" or "DAY" and a
// Retry-After until the window ends (toloka-api.md §17.2).
func WithTaskQuota(q Quota) Option { return func(cfg *config) { cfg.taskQuota = q } }

// WithSuiteQuota limits the suites POST /task-suites accepts; see WithTaskQuota.
func WithSuiteQuota(q Quota) Option { return func(cfg *config) { cfg.suiteQuota = q } }

// limiter keeps fixed-window counters on the server clock.
type limiter struct {
	clock  Clock
	rps    int
	quotas [2]Quota

	mu       sync.Mutex
	second   time.Time
	inSecond int
	minute   [2]time.Time
	inMinute [2]int
	day      [2]time.Time
	inDay    [2]int
}

func newLimiter(cfg config) *limiter {
	return &limiter{clock: cfg.clock, rps: cfg.requestsPerSecond, quotas: [2]Quota{cfg.taskQuota, cfg.suiteQuota}}
}

// request counts one request against the per-second limit.
func (l *limiter) request(now time.Time) *apiError {
	if l.rps <= 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	win := now.Truncate(time.Second)
	if !win.Equal(l.second) {
		l.second, l.inSecond = win, 0
	}
	if l.inSecond >= l.rps {
		return l.tooMany("Too many requests: more than "+fmt.Sprint(l.rps)+" per second", "", win.Add(time.Second).Sub(now))
	}
	l.inSecond++
	return nil
}

// items counts n created items of a kind against its quota; nothing is
// counted when the request is refused.
func (l *limiter) items(kind itemKind, n int, now time.Time) *apiError {
	q := l.quotas[kind]
	if q.PerMinute <= 0 && q.PerDay <= 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	minute, day := now.Truncate(time.Minute), now.Truncate(24*time.Hour)
	if !minute.Equal(l.minute[kind]) {
		l.minute[kind], l.inMinute[kind] = minute, 0
	}
	if !day.Equal(l.day[kind]) {
		l.day[kind], l.inDay[kind] = day, 0
	}
	what := kind.collection()
	if q.PerDay > 0 && l.inDay[kind]+n > q.PerDay {
		return l.tooMany(fmt.Sprintf("Too many requests: the quota of %d %s per day is spent", q.PerDay, what), "DAY", day.Add(24*time.Hour).Sub(now))
	}
	if q.PerMinute > 0 && l.inMinute[kind]+n > q.PerMinute {
		return l.tooMany(fmt.Sprintf("Too many requests: the quota of %d %s per minute is spent", q.PerMinute, what), "MIN", minute.Add(time.Minute).Sub(now))
	}
	l.inMinute[kind] += n
	l.inDay[kind] += n
	return nil
}

func (l *limiter) tooMany(message, interval string, wait time.Duration) *apiError {
	if rd, ok := l.clock.(realDurationer); ok {
		wait = rd.RealDuration(wait)
	}
	if wait < time.Second {
		wait = time.Second
	}
	e := &apiError{status: http.StatusTooManyRequests, code: toloka.CodeTooManyRequests, message: message, retryAfter: wait}
	if interval != "" {
		e.payload = map[string]string{"interval": interval}
	}
	return e
}
