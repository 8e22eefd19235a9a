package toloka

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// uploadBenchTasks are the benchmark tasks:
// {"pool_id":"1","input_values":{"image":"https://example.com/img/0000001.png"}}.
func uploadBenchTasks(n int) []Task {
	tasks := make([]Task, n)
	for i := range tasks {
		tasks[i] = Task{PoolID: "1", InputValues: Values{"image": fmt.Sprintf("https://example.com/img/%07d.png", i)}}
	}
	return tasks
}

// BenchmarkUpload100kTasks measures the client side of a bulk upload of
// 100,000 tasks — reading, encoding, measuring, batching, assembling the
// request bodies and (in "validated") the per-batch checks — against a
// runner that answers at once, so no network or server time is included.
// "baseline" is the minimal client's encoding: encoding/json over 5,000-task
// slices. Run: go test -run '^$' -bench Upload100k -benchmem -count 5 .
func BenchmarkUpload100kTasks(b *testing.B) {
	const n = 100_000
	tasks := uploadBenchTasks(n)
	ids := make([]string, MaxUploadBatchSize)
	for i := range ids {
		ids[i] = "00012bb84--62d80429f20bf20e50f36a27"
	}
	runner := func(_ context.Context, batch *uploadBatch) (batchOutcome, error) {
		if batch.Body[len(batch.Body)-1] != ']' {
			return batchOutcome{}, fmt.Errorf("unterminated body")
		}
		return batchOutcome{IDs: ids[:batch.Len()]}, nil
	}
	c, err := NewClient(WithAPIKey("bench"), WithBaseURL("http://127.0.0.1:1"))
	if err != nil {
		b.Fatal(err)
	}
	var lines bytes.Buffer
	for _, task := range tasks {
		data, _ := json.Marshal(task)
		lines.Write(data)
		lines.WriteByte('\n')
	}
	upload := func(b *testing.B, src func() TaskSource, opts ...UploadOption) {
		b.ReportAllocs()
		cpu := uploadProcessCPU()
		for b.Loop() {
			sum, err := c.UploadTasks(context.Background(), src(), append(opts, withRunner(runner), withClock(newUploadFakeClock()))...)
			if err != nil || sum.Created != n {
				b.Fatalf("created %d of %d: %v", sum.Created, n, err)
			}
		}
		reportPerTask(b, n, cpu)
	}
	b.Run("bulk", func(b *testing.B) {
		upload(b, func() TaskSource { return TasksFromSlice(tasks) }, WithCallOptions(SkipValidation()))
	})
	b.Run("bulk-validated", func(b *testing.B) {
		// The pool and project the fake serves, supplied so that no lookup
		// (and no network) is needed.
		three := int64(3)
		pool := &Pool{ID: "1", ProjectID: "1", MixerConfig: &MixerConfig{RealTasksCount: 5}, Defaults: &PoolDefaults{DefaultOverlapForNewTasks: &three}}
		project := &Project{ID: "1", TaskSpec: TaskSpec{InputSpec: map[string]FieldSpec{"image": {Type: FieldURL, Required: true}}}}
		upload(b, func() TaskSource { return TasksFromSlice(tasks) }, WithCallOptions(CreateOptions{AllowDefaults: true}, WithPool(pool), WithProject(project)))
	})
	b.Run("bulk-jsonl", func(b *testing.B) {
		upload(b, func() TaskSource { return TasksFromJSONL(bytes.NewReader(lines.Bytes())) }, WithCallOptions(SkipValidation()))
	})
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		cpu := uploadProcessCPU()
		for b.Loop() {
			for i := 0; i < n; i += DefaultUploadBatchSize {
				body, err := json.Marshal(tasks[i : i+DefaultUploadBatchSize])
				if err != nil || len(body) == 0 {
					b.Fatal(err)
				}
			}
		}
		reportPerTask(b, n, cpu)
	})
}

// reportPerTask adds wall and CPU time per task; CPU time (all threads,
// GC included) is what the client-CPU target compares, since the
// uploader works on several cores at once.
func reportPerTask(b *testing.B, n int, cpuBefore time.Duration) {
	cpu := uploadProcessCPU() - cpuBefore
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/task")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/task")
}
