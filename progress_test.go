package toloka

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProgressBarWithKnownTotal(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	bar := NewProgressBar(&buf)
	bar(UploadProgress{Total: 200_000, Read: 60_000, Sent: 55_000, Created: 49_990, Rejected: 10, ItemsPerSecond: 1234.4})
	assert.Equal(t, "\r 25% [=======                       ] 50,000/200,000 | sent 55,000, created 49,990, rejected 10 | 1,234 items/s", buf.String())

	buf.Reset()
	bar(UploadProgress{Total: 200_000, Created: 199_000, Rejected: 500, Failed: 500, Sent: 200_000, ItemsPerSecond: 3000, Done: true})
	out := buf.String()
	assert.True(t, strings.HasPrefix(out, "\r100% [==============================] 200,000/200,000"), out)
	assert.Contains(t, out, ", failed 500")
	assert.True(t, strings.HasSuffix(out, "\n"), "the last call ends the line")
}

func TestProgressBarWithUnknownTotalPadsShorterLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	bar := NewProgressBar(&buf)
	bar(UploadProgress{Total: -1, Created: 1_234_567, Failed: 3, ItemsPerSecond: 99.6})
	first := buf.String()
	assert.Equal(t, "\r1,234,570 done | sent 0, created 1,234,567, rejected 0, failed 3 | 100 items/s", first)
	buf.Reset()
	bar(UploadProgress{Total: -1, Created: 5})
	second := buf.String()
	assert.Len(t, second, len(first), "a shorter line overwrites the longer one fully")
	assert.True(t, strings.HasPrefix(second, "\r5 done | sent 0, created 5, rejected 0 | 0 items/s   "))
}

func TestGroupDigits(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 123456: "123,456", -1234567: "-1,234,567"} {
		assert.Equal(t, want, groupDigits(n))
	}
}

func TestProgressBarDrawsAnUpload(t *testing.T) {
	t.Parallel()
	clk := newUploadFakeClock()
	fake := newFakeToloka(t, clk)
	fake.perBatch = time.Second
	var buf bytes.Buffer
	_, err := testClient(t).UploadTasks(context.Background(), TasksFromSlice(imageTasks(10)),
		WithBatchSize(5), WithConcurrency(1), withRunner(fake.run), withClock(clk), OnProgress(NewProgressBar(&buf)))
	require.NoError(t, err)
	lines := strings.Split(buf.String(), "\r")
	require.Len(t, lines, 4) // "", batch 1, batch 2, done
	assert.Contains(t, lines[1], " 50% [")
	assert.Contains(t, lines[3], "100% [")
	assert.Contains(t, lines[3], "| 5 items/s\n")
}
