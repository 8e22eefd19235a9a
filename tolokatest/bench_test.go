package tolokatest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"testing"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/tolokatest"
)

// benchServer is a server with one smart-mixing pool whose project declares
// the fields benchTasks fills.
func benchServer(b *testing.B, opts ...tolokatest.Option) *tolokatest.Server {
	b.Helper()
	s := tolokatest.NewServer(opts...)
	b.Cleanup(s.Close)
	if _, err := s.AddProject(toloka.Project{ID: "1", TaskSpec: toloka.TaskSpec{
		InputSpec:  map[string]toloka.FieldSpec{"image": {Type: toloka.FieldURL, Required: true}, "text": {Type: toloka.FieldString, Required: false}},
		OutputSpec: map[string]toloka.FieldSpec{"label": {Type: toloka.FieldString, Required: true}},
	}}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.AddPool(toloka.Pool{ID: "100", ProjectID: "1", MixerConfig: &toloka.MixerConfig{RealTasksCount: 10}}); err != nil {
		b.Fatal(err)
	}
	return s
}

func benchTasks(n int) []toloka.Task {
	tasks := make([]toloka.Task, n)
	for i := range tasks {
		tasks[i] = toloka.Task{
			PoolID:      "100",
			InputValues: toloka.Values{"image": fmt.Sprintf("https://example.com/img/%07d.png", i), "text": "a short caption"},
			Overlap:     toloka.FiniteOverlap(3),
		}
	}
	return tasks
}

// BenchmarkServerSyncBatch measures the fake alone: one HTTP client posts
// pre-encoded 5,000-task sync batches and reads each answer in full, so the
// figure is what the server sustains, not what the SDK encodes.
func BenchmarkServerSyncBatch(b *testing.B) {
	s := benchServer(b)
	body, err := json.Marshal(benchTasks(toloka.MaxSyncBatch))
	if err != nil {
		b.Fatal(err)
	}
	hc := s.HTTPClient()
	url := s.URL() + "/tasks?async_mode=false"
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "ApiKey "+s.Credential())
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*toloka.MaxSyncBatch)/b.Elapsed().Seconds(), "tasks/s")
}

// BenchmarkServerSyncBatchSDK is the same through toloka.Client.CreateTasks:
// SDK validation, encoding and decoding included.
func BenchmarkServerSyncBatchSDK(b *testing.B) {
	s := benchServer(b)
	c, err := s.Client()
	if err != nil {
		b.Fatal(err)
	}
	tasks := benchTasks(toloka.MaxSyncBatch)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := c.CreateTasks(ctx, tasks)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Items) != len(tasks) {
			b.Fatalf("%d created", len(res.Items))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*toloka.MaxSyncBatch)/b.Elapsed().Seconds(), "tasks/s")
}

// BenchmarkServerMillionTasks fills one pool with 1,000,000 tasks through the
// API, reports the heap they take per task, then times reading a 300-task
// page from the middle of the pool with the pagination idiom (sort=id&id_gt).
func BenchmarkServerMillionTasks(b *testing.B) {
	s := benchServer(b)
	body, err := json.Marshal(benchTasks(toloka.MaxSyncBatch))
	if err != nil {
		b.Fatal(err)
	}
	hc := s.HTTPClient()
	post := func() {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/tasks", bytes.NewReader(body))
		req.Header.Set("Authorization", "ApiKey "+s.Credential())
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const total = 1_000_000
	for n := 0; n < total; n += toloka.MaxSyncBatch {
		post()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := s.TaskCount("100"); got != total {
		b.Fatalf("%d tasks stored", got)
	}
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	get := func(query string) {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/tasks?"+query, nil)
		req.Header.Set("Authorization", "ApiKey "+s.Credential())
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
			b.Fatal(err)
		}
	}
	get("pool_id=100&sort=id&limit=1&id_gt=0000000064--00000000000000000007a11f") // task 500,000 has sequence 0x7a120
	if len(page.Items) != 1 {
		b.Fatal("no task in the middle of the pool")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		get("pool_id=100&sort=id&limit=300&id_gt=0000000064--00000000000000000007a11f")
		if len(page.Items) != 300 {
			b.Fatalf("page of %d", len(page.Items))
		}
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/total, "heap-B/task")
}
