package toloka

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Default pacing of uploads (toloka-api.md §17.4): the global request ceiling
// and the documented creation quotas. Toloka words the quotas as tasks (or
// suites) per minute and per day in the endpoint texts and as requests in its
// table; the uploader counts items, the reading that keeps it under the
// limit either way (§17.4 remarks, inferred).
const (
	DefaultRequestsPerSecond   = 300
	DefaultTasksPerMinute      = 200_000
	DefaultTasksPerDay         = 4_000_000
	DefaultTaskSuitesPerMinute = 100_000
	DefaultTaskSuitesPerDay    = 2_000_000
)

// Window spans and slot widths of the pacer: a slot is the granularity at
// which bookings expire (see window).
const (
	requestWindowSpan = time.Second
	requestWindowSlot = 50 * time.Millisecond
	minuteWindowSpan  = time.Minute
	minuteWindowSlot  = time.Second
	dayWindowSpan     = 24 * time.Hour
	dayWindowSlot     = time.Minute
)

// clock is the uploader's time source; tests replace it so that nothing
// sleeps and every wait can be asserted.
type clock interface {
	Now() time.Time
	// SleepUntil waits until t or until ctx is done, whichever comes first.
	SleepUntil(ctx context.Context, t time.Time) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) SleepUntil(ctx context.Context, t time.Time) error {
	return sleepContext(ctx, time.Until(t))
}

// pacer keeps an upload under Toloka's request rate and item quotas by
// booking capacity before each batch is sent, so a large upload runs at the
// quota instead of bouncing off 429s. Safe for concurrent use.
type pacer struct {
	mu      sync.Mutex
	last    time.Time
	windows []*window // each with its own unit: requests or items
	perItem []bool    // whether windows[i] counts items (else requests)
}

// newPacer returns a pacer whose windows start at origin. A limit ≤ 0
// disables its window. maxItems is the largest reservation that will be
// asked for; it must fit each item window.
func newPacer(origin time.Time, requestsPerSecond int, itemsPerMinute, itemsPerDay int64, maxItems int) (*pacer, error) {
	p := &pacer{last: origin}
	if requestsPerSecond > 0 {
		p.windows = append(p.windows, newWindow(origin, int64(requestsPerSecond), requestWindowSpan, requestWindowSlot))
		p.perItem = append(p.perItem, false)
	}
	for _, w := range []struct {
		limit      int64
		span, slot time.Duration
		name       string
	}{
		{itemsPerMinute, minuteWindowSpan, minuteWindowSlot, "minute"},
		{itemsPerDay, dayWindowSpan, dayWindowSlot, "day"},
	} {
		if w.limit <= 0 {
			continue
		}
		if int64(maxItems) > w.limit {
			return nil, fmt.Errorf("toloka: the batch size %d is above the quota of %d items per %s, so no batch could ever be sent: use WithBatchSize(%d) or less", maxItems, w.limit, w.name, w.limit)
		}
		p.windows = append(p.windows, newWindow(origin, w.limit, w.span, w.slot))
		p.perItem = append(p.perItem, true)
	}
	return p, nil
}

// reserve books one request carrying n items at the earliest moment, not
// before now, that keeps every window within its limit, and returns that
// moment. Bookings are made in time order even when callers race.
func (p *pacer) reserve(now time.Time, n int) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := now
	if t.Before(p.last) {
		t = p.last
	}
	// Each window's answer only moves forward, and a later start can only
	// free capacity, so this reaches a moment every window accepts.
	for {
		next := t
		for i, w := range p.windows {
			next = w.earliest(next, p.amount(i, n))
		}
		if next.Equal(t) {
			break
		}
		t = next
	}
	for i, w := range p.windows {
		w.add(t, p.amount(i, n))
	}
	p.last = t
	return t
}

func (p *pacer) amount(i, n int) int64 {
	if p.perItem[i] {
		return int64(n)
	}
	return 1
}

// window is a sliding-window limit kept in fixed slots: a booking counts
// against every window that could contain it, i.e. for span plus one slot,
// so no span-long interval, however placed, ever holds more than limit. The
// cost of that safety is a sustained rate of limit·span/(span+slot) — 98.4%
// of a per-minute quota with one-second slots. Memory is fixed: one counter
// per slot.
type window struct {
	limit  int64
	slot   time.Duration
	origin time.Time
	k      int64     // slots per span
	ring   []slotUse // k+1 slots, indexed by slot number mod k+1
}

type slotUse struct {
	slot int64
	used int64
}

func newWindow(origin time.Time, limit int64, span, slot time.Duration) *window {
	k := int64(span / slot)
	return &window{limit: limit, slot: slot, origin: origin, k: k, ring: make([]slotUse, k+1)}
}

func (w *window) slotOf(t time.Time) int64 {
	if t.Before(w.origin) {
		return 0
	}
	return int64(t.Sub(w.origin) / w.slot)
}

func (w *window) used(slot int64) int64 {
	if slot < 0 {
		return 0
	}
	e := w.ring[slot%int64(len(w.ring))]
	if e.slot != slot {
		return 0
	}
	return e.used
}

// earliest returns the first moment not before t at which n more fit. All
// bookings lie at or before t, so moving forward only lets old slots expire.
func (w *window) earliest(t time.Time, n int64) time.Time {
	c := w.slotOf(t)
	var sum int64
	for s := c - w.k; s <= c; s++ {
		sum += w.used(s)
	}
	for sum+n > w.limit {
		sum -= w.used(c - w.k)
		c++
	}
	if start := w.origin.Add(time.Duration(c) * w.slot); start.After(t) {
		return start
	}
	return t
}

func (w *window) add(t time.Time, n int64) {
	c := w.slotOf(t)
	e := &w.ring[c%int64(len(w.ring))]
	if e.slot != c {
		*e = slotUse{slot: c}
	}
	e.used += n
}
