package toloka

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pacingOrigin is where the pacers under test start.
const pacingOriginUnix = 1714521600 // 2024-05-01T00:00:00Z

func pacingStart() time.Time { return time.Unix(pacingOriginUnix, 0).UTC() }

func TestPacerItemQuotaPerMinute(t *testing.T) {
	t.Parallel()
	pacingOrigin := pacingStart()
	p, err := newPacer(pacingOrigin, 0, 10, 0, 5)
	require.NoError(t, err)
	at := func(offset time.Duration, n int) time.Duration {
		return p.reserve(pacingOrigin.Add(offset), n).Sub(pacingOrigin)
	}
	assert.Equal(t, time.Duration(0), at(0, 5))
	assert.Equal(t, 10*time.Second, at(10*time.Second, 5), "10 items in the minute: still within quota")
	// Slot 0 counts through slot 60; slot 10 through 70.
	assert.Equal(t, 61*time.Second, at(20*time.Second, 5), "waits until the first booking has left every minute it could share")
	assert.Equal(t, 71*time.Second, at(20*time.Second, 5), "and then for the second; bookings stay in order")
	assert.Equal(t, 122*time.Second, at(0, 5))
}

func TestPacerRequestsPerSecond(t *testing.T) {
	t.Parallel()
	pacingOrigin := pacingStart()
	p, err := newPacer(pacingOrigin, 300, 0, 0, 5000)
	require.NoError(t, err)
	for range 300 {
		assert.Equal(t, pacingOrigin, p.reserve(pacingOrigin, 5000), "item counts do not matter to the request ceiling")
	}
	// The 301st request waits for the first 300 to age out of every
	// second-long window: 20 slots of 50 ms, plus the slot itself.
	assert.Equal(t, pacingOrigin.Add(1050*time.Millisecond), p.reserve(pacingOrigin, 1))
}

func TestPacerDayQuotaAndCombinedWindows(t *testing.T) {
	t.Parallel()
	pacingOrigin := pacingStart()
	p, err := newPacer(pacingOrigin, 1, 100, 200, 100)
	require.NoError(t, err)
	assert.Equal(t, pacingOrigin, p.reserve(pacingOrigin, 100))
	// The minute window wants 61 s; the request window alone would allow 1.05 s.
	assert.Equal(t, pacingOrigin.Add(61*time.Second), p.reserve(pacingOrigin, 100))
	// The day is then full until the first booking's minute slot has left
	// the day window: 1441 one-minute slots after the start.
	assert.Equal(t, pacingOrigin.Add(1441*time.Minute), p.reserve(pacingOrigin.Add(2*time.Minute), 1))
}

func TestPacerRejectsABatchAboveAQuota(t *testing.T) {
	t.Parallel()
	pacingOrigin := pacingStart()
	_, err := newPacer(pacingOrigin, 300, 100, 50, 60)
	require.ErrorContains(t, err, "the batch size 60 is above the quota of 50 items per day")
	require.ErrorContains(t, err, "WithBatchSize(50)")
	p, err := newPacer(pacingOrigin, 0, 0, 0, MaxUploadBatchSize)
	require.NoError(t, err)
	assert.Equal(t, pacingOrigin.Add(time.Hour), p.reserve(pacingOrigin.Add(time.Hour), 10_000), "no limits: never waits")
}

// TestPacerNeverOverfillsAWindow books from many goroutines, then checks
// every minute-long window of the bookings, wherever it starts.
func TestPacerNeverOverfillsAWindow(t *testing.T) {
	t.Parallel()
	pacingOrigin := pacingStart()
	const quota = 1000
	p, err := newPacer(pacingOrigin, 0, quota, 0, 70)
	require.NoError(t, err)
	type booking struct {
		at time.Time
		n  int
	}
	var mu sync.Mutex
	var books []booking
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			now := pacingOrigin.Add(time.Duration(g) * 700 * time.Millisecond)
			for i := range 50 {
				n := 1 + (g*31+i*17)%70
				at := p.reserve(now, n)
				mu.Lock()
				books = append(books, booking{at, n})
				mu.Unlock()
				now = at.Add(time.Duration(i%3) * 300 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	last := pacingOrigin
	for _, b := range books {
		if b.at.After(last) {
			last = b.at
		}
		sum := 0
		for _, o := range books {
			if !o.at.Before(b.at) && o.at.Sub(b.at) < time.Minute {
				sum += o.n
			}
		}
		require.LessOrEqual(t, sum, quota, "window from %v", b.at.Sub(pacingOrigin))
	}
	assert.Greater(t, last.Sub(pacingOrigin), 5*time.Minute, "the bookings did have to wait")
}

// TestPacerRunsAtTheQuota: a client always ready to send, with batches of
// varying size, gets at least 95% of the quota.
func TestPacerRunsAtTheQuota(t *testing.T) {
	t.Parallel()
	pacingOrigin := pacingStart()
	const quota = 10_000
	p, err := newPacer(pacingOrigin, 300, quota, 0, 700)
	require.NoError(t, err)
	now, total := pacingOrigin, 0
	for i := range 2000 {
		n := 1 + (i*7919)%700
		now = p.reserve(now, n)
		total += n
	}
	rate := float64(total-quota) / now.Sub(pacingOrigin).Minutes()
	assert.GreaterOrEqual(t, rate, 0.95*quota, "%.0f items per minute", rate)
	assert.LessOrEqual(t, rate, float64(quota))
}
