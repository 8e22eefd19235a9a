package backoff

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCeiling(t *testing.T) {
	t.Parallel()
	const ms = time.Millisecond
	tests := []struct {
		name      string
		base, max time.Duration
		retry     int
		want      time.Duration
	}{
		{"first retry is the base", 500 * ms, 30 * time.Second, 0, 500 * ms},
		{"doubles", 500 * ms, 30 * time.Second, 1, time.Second},
		{"doubles again", 500 * ms, 30 * time.Second, 3, 4 * time.Second},
		{"capped", 500 * ms, 30 * time.Second, 6, 30 * time.Second},
		{"huge retry saturates without overflow", 500 * ms, 30 * time.Second, 10_000, 30 * time.Second},
		{"huge cap and retry saturate at cap", time.Second, time.Duration(math.MaxInt64), 200, time.Duration(math.MaxInt64)},
		{"negative retry counts as first", 500 * ms, time.Second, -3, 500 * ms},
		{"zero base means no wait", 0, time.Second, 4, 0},
		{"zero cap means no wait", time.Second, 0, 4, 0},
		{"base above cap is capped", 10 * time.Second, time.Second, 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, Ceiling(tt.base, tt.max, tt.retry))
		})
	}
}

func TestFullJitter(t *testing.T) {
	t.Parallel()
	base, maxDelay := 100*time.Millisecond, 10*time.Second
	tests := []struct {
		name  string
		retry int
		r     float64
		want  time.Duration
	}{
		{"r=0 retries at once", 2, 0, 0},
		{"r=0.5 is half the ceiling", 2, 0.5, 200 * time.Millisecond},
		{"r=0.25 of the first retry", 0, 0.25, 25 * time.Millisecond},
		{"capped ceiling", 20, 0.5, 5 * time.Second},
		{"negative r is clamped to 0", 3, -1, 0},
		{"NaN is 0", 3, math.NaN(), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, FullJitter(base, maxDelay, tt.retry, tt.r))
		})
	}
	t.Run("r>=1 stays below the ceiling", func(t *testing.T) {
		t.Parallel()
		for _, r := range []float64{1, 2, math.Inf(1)} {
			d := FullJitter(base, maxDelay, 1, r)
			assert.Less(t, d, 200*time.Millisecond)
			assert.Greater(t, d, 199*time.Millisecond)
		}
	})
	t.Run("never exceeds the ceiling", func(t *testing.T) {
		t.Parallel()
		for retry := 0; retry < 70; retry++ {
			for _, r := range []float64{0, 0.1, 0.5, 0.999999} {
				assert.LessOrEqual(t, FullJitter(base, maxDelay, retry, r), Ceiling(base, maxDelay, retry))
			}
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"absent", "", 0, false},
		{"blank", "   ", 0, false},
		{"seconds", "120", 2 * time.Minute, true},
		{"zero seconds", "0", 0, true},
		{"seconds with spaces", " 7 ", 7 * time.Second, true},
		{"negative seconds are invalid", "-5", 0, false},
		{"fractional seconds are invalid", "1.5", 0, false},
		{"garbage", "soon", 0, false},
		{"overflowing seconds saturate", "99999999999999999999999", time.Duration(math.MaxInt64), true},
		{"seconds just over the Duration range saturate", "9223372037", time.Duration(math.MaxInt64), true},
		{"IMF-fixdate in the future", "Wed, 21 Oct 2015 07:29:30 GMT", 90 * time.Second, true},
		{"RFC 850 date", "Wednesday, 21-Oct-15 07:28:10 GMT", 10 * time.Second, true},
		{"asctime date", "Wed Oct 21 07:28:05 2015", 5 * time.Second, true},
		{"date in the past means now", "Wed, 21 Oct 2015 07:00:00 GMT", 0, true},
		{"date with a non-GMT zone is invalid", "Wed, 21 Oct 2015 07:29:30 +0100", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseRetryAfter(tt.value, now)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}
