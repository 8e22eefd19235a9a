package tolokatest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
