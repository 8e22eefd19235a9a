package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary serve as the bench's child processes, as
// the command's own binary does.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(childMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestSmoke runs every workload in a tiny mode, against real tolokafake
// processes, so the command keeps working. It asserts what the run did, not
// how fast: timings are the command's output, never a test's verdict.
func TestSmoke(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds tolokafake and starts processes")
	}
	self, err := os.Executable()
	require.NoError(t, err)
	var out bytes.Buffer
	args := []string{"-tasks", "2000", "-jsonl-tasks", "3000", "-rounds", "1",
		"-pace-quota", "5000", "-pace-windows", "2", "-pace-scale", "120", "-workdir", t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, run(ctx, args, self, &out), out.String())
	text := out.String()
	t.Log(text)
	for _, want := range []string{
		"baseline ", "upload ", "fake-sync ", "fake-async ", "upload-jsonl ", "pace ",
		"client CPU, 2,000 tasks: upload",
		"memory, 3,000 tasks from JSON Lines: peak RSS",
		"pacing at 5,000 tasks/min (clock ×120)",
		"2 batches, 0 failed",
		"throughput at the default concurrency: upload",
		"command: tolokabench -tasks 2000",
	} {
		assert.Contains(t, text, want)
	}
	// Every workload row reports the tasks it was given, all created (run
	// fails otherwise) and a peak RSS.
	rows := 0
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) == 9 && strings.Contains("baseline upload fake-sync fake-async upload-jsonl pace", f[0]) {
			rows++
			assert.Contains(t, []string{"2,000", "3,000", "10,000"}, f[1], line)
			assert.NotEqual(t, "0.0", f[7], "peak RSS: %s", line)
		}
	}
	assert.Equal(t, 6, rows, text)
}

func TestFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-tasks", "0"}, {"-rounds", "0"}, {"-pace-quota", "100"}, {"-pace-windows", "1"}, {"-pace-scale", "0"}, {"-nope"}} {
		_, err := parseFlags(args, io.Discard)
		assert.Error(t, err, "%v", args)
	}
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 100_000, cfg.tasks)
	assert.Equal(t, 1_000_000, cfg.jsonlTasks)
}

func TestChildRejectsUnknownWorkload(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 2, childMain([]string{"nope"}))
	assert.Equal(t, 2, childMain(nil))
}

func TestCountMarkersAcrossChunks(t *testing.T) {
	t.Parallel()
	body := preEncoded(1000, true)
	assert.EqualValues(t, 1000, countMarkers(bytes.NewReader(body)))
	assert.EqualValues(t, 1000, countMarkers(iotest.OneByteReader(bytes.NewReader(body))))
	assert.EqualValues(t, 0, countMarkers(bytes.NewReader(preEncoded(10, false))))
}

func TestAnalysePace(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	// Three windows of 10 items, 61 s apart, each sent over 2 s.
	var sends []send
	for _, w := range []float64{0.5, 61.5, 122.5} {
		sends = append(sends, send{at: at(w + 2), items: 5}, send{at: at(w), items: 5})
	}
	p := &paceResult{Quota: 10, Duration: 125 * time.Second}
	analysePace(p, start, sends)
	require.Len(t, p.Windows, 3)
	assert.Equal(t, paceWindow{Start: 61500 * time.Millisecond, Items: 10}, p.Windows[1])
	assert.InDelta(t, 20/(122.0/60), p.Steady, 1e-9, "two windows' items over the span between the first and last start")
	assert.InDelta(t, 30/(125.0/60), p.Overall, 1e-9)
	assert.EqualValues(t, 10, p.MaxPerMinute)
}

func TestParseResult(t *testing.T) {
	t.Parallel()
	res, err := parseResult([]byte("noise\n" + resultPrefix + `{"Workload":"upload","Tasks":3,"Created":3,"Wall":5}` + "\n"))
	require.NoError(t, err)
	assert.Equal(t, childResult{Workload: "upload", Tasks: 3, Created: 3, Wall: 5}, res)
	_, err = parseResult([]byte("nothing"))
	assert.Error(t, err)
}

func TestItoa(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000"} {
		assert.Equal(t, want, itoa(n))
	}
}
