package toloka

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cannedTransport answers every request from memory with a body prepared
// beforehand, so a benchmark measures only the client's own work.
type cannedTransport struct {
	bodies map[string][]byte // "METHOD /path" → body
}

func (ct *cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	key := req.Method + " " + strings.TrimPrefix(req.URL.Path, "/api/v1")
	body, ok := ct.bodies[key]
	if !ok {
		return nil, fmt.Errorf("canned transport: no body for %s", key)
	}
	status := 200
	if req.Method == http.MethodPost {
		status = 201
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(body)), Request: req}, nil
}

// benchTasks are n tasks shaped like a typical image-labelling upload.
func benchTasks(n int) []Task {
	tasks := make([]Task, n)
	for i := range tasks {
		tasks[i] = Task{
			PoolID:  "mix",
			Overlap: FiniteOverlap(3),
			InputValues: Values{
				"image":    "https://storage.example.com/datasets/elephants/" + strconv.Itoa(i) + ".png",
				"sku":      "sku-" + strconv.Itoa(i%10000),
				"priority": 1 + i%100,
				"tags":     []string{"a", "b"},
			},
		}
	}
	return tasks
}

// benchClient serves the fixture pool and project, and the sync batch
// result Toloka would send for tasks: every task back with an id.
func benchClient(b *testing.B, tasks []Task) *Client {
	b.Helper()
	items := make(map[string]json.RawMessage, len(tasks))
	for i, t := range tasks {
		data, err := json.Marshal(t)
		if err != nil {
			b.Fatal(err)
		}
		// Add the fields the server sets.
		data = append([]byte(`{"id":"00014495f0--60213f7c25a8b84e2ffb`+fmt.Sprintf("%04d", i)+`","created":"2023-03-28T11:06:09.827","remaining_overlap":3,`), data[1:]...)
		items[strconv.Itoa(i)] = data
	}
	result, err := json.Marshal(map[string]any{"items": items, "validation_errors": map[string]any{}})
	if err != nil {
		b.Fatal(err)
	}
	ct := &cannedTransport{bodies: map[string][]byte{
		"POST /tasks":       result,
		"GET /pools/mix":    []byte(testPools()["mix"]),
		"GET /projects/prj": []byte(testProjectJSON),
	}}
	c, err := NewClient(WithAPIKey("bench-key"), WithBaseURL(testBase), WithTransport(ct))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkCreateTasks5000 measures a 5,000-task CreateTasks against an
// in-process transport, without and with validation (lookups cached, as
// for every call after a client's first). The difference is what
// validation costs; see BENCHMARKS.md.
func BenchmarkCreateTasks5000(b *testing.B) {
	tasks := benchTasks(MaxSyncBatch)
	c := benchClient(b, tasks)
	ctx := context.Background()
	for _, mode := range []struct {
		name string
		opts []CallOption
	}{
		{"validation=off", []CallOption{SkipValidation()}},
		{"validation=on", nil},
	} {
		b.Run(mode.name, func(b *testing.B) {
			if _, err := c.CreateTasks(ctx, tasks, mode.opts...); err != nil { // warms the lookup cache
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := c.CreateTasks(ctx, tasks, mode.opts...)
				if err != nil || len(res.Items) != len(tasks) {
					b.Fatal(err, len(res.Items))
				}
			}
		})
	}
}

// BenchmarkValidationOverhead5000 measures client CPU (process user+system
// time, so GC is included and other processes on the machine are not) of a
// 5,000-task CreateTasks without validation, with it, and of ValidateTasks
// alone, paired in every iteration so drift hits all three alike. It
// reports CPU ms per call and validation's share of the unvalidated call.
func BenchmarkValidationOverhead5000(b *testing.B) {
	if _, ok := processCPU(); !ok {
		b.Skip("process CPU time is not available on this platform")
	}
	tasks := benchTasks(MaxSyncBatch)
	c := benchClient(b, tasks)
	ctx := context.Background()
	if err := c.ValidateTasks(ctx, tasks); err != nil { // warms the lookup cache
		b.Fatal(err)
	}
	measure := func(f func() error) time.Duration {
		runtime.GC() // start from a clean heap, outside the measurement
		start, _ := processCPU()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		end, _ := processCPU()
		return end - start
	}
	var off, on, alone time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		off += measure(func() error { _, err := c.CreateTasks(ctx, tasks, SkipValidation()); return err })
		on += measure(func() error { _, err := c.CreateTasks(ctx, tasks); return err })
		alone += measure(func() error { return c.ValidateTasks(ctx, tasks) })
	}
	n := float64(b.N)
	b.ReportMetric(off.Seconds()*1e3/n, "off-cpu-ms/op")
	b.ReportMetric(on.Seconds()*1e3/n, "on-cpu-ms/op")
	b.ReportMetric(alone.Seconds()*1e3/n, "validate-cpu-ms/op")
	b.ReportMetric(100*float64(on-off)/float64(off), "on-vs-off-%")
	b.ReportMetric(100*float64(alone)/float64(off), "validate-vs-off-%")
}

// BenchmarkCheckTasks5000 is the pure check alone, with the task_spec.
func BenchmarkCheckTasks5000(b *testing.B) {
	tasks := benchTasks(MaxSyncBatch)
	var pool Pool
	var project Project
	if err := json.Unmarshal([]byte(testPools()["mix"]), &pool); err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal([]byte(testProjectJSON), &project); err != nil {
		b.Fatal(err)
	}
	env := CheckEnv{Pools: map[string]*Pool{"mix": &pool}, Projects: map[string]*Project{"prj": &project}, RequirePools: true}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if errs := CheckTasks(tasks, env); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

// BenchmarkByteBudget compares the size walk of the byte budgets with the
// json.Marshal per item it replaced.
func BenchmarkByteBudget(b *testing.B) {
	tasks := benchTasks(MaxSyncBatch)
	b.Run("walk", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			n := 0
			for k := range tasks {
				n += valuesSize(tasks[k].InputValues)
			}
			if n == 0 {
				b.Fatal("no size")
			}
		}
	})
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			n := 0
			for k := range tasks {
				data, _ := json.Marshal(tasks[k].InputValues)
				n += len(data)
			}
			if n == 0 {
				b.Fatal("no size")
			}
		}
	})
}
