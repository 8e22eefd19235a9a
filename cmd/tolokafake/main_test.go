package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lineWriter hands each printed line to a channel.
type lineWriter struct{ lines chan string }

func (w lineWriter) Write(p []byte) (int, error) {
	sc := bufio.NewScanner(strings.NewReader(string(p)))
	for sc.Scan() {
		w.lines <- sc.Text()
	}
	return len(p), nil
}

func start(t *testing.T, args ...string) (base string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := lineWriter{lines: make(chan string, 16)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), w) }()
	for line := range w.lines {
		if rest, ok := strings.CutPrefix(line, "API base URL: "); ok {
			base = rest
			break
		}
	}
	return base, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			return context.DeadlineExceeded
		}
	}
}

func get(t *testing.T, url, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestServesDemoData(t *testing.T) {
	t.Parallel()
	base, stop := start(t, "-credential", "k1")
	require.True(t, strings.HasPrefix(base, "http://127.0.0.1:"))
	require.True(t, strings.HasSuffix(base, "/api/v1"))
	status, body := get(t, base+"/pools/1", "OAuth k1")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `"mixer_config"`)
	status, _ = get(t, base+"/pools/1", "ApiKey other")
	assert.Equal(t, http.StatusUnauthorized, status)
	require.NoError(t, stop())
}

func TestServesFixtureFile(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/f.json"
	require.NoError(t, os.WriteFile(path, []byte(`{"projects":[{"id":"9","task_spec":{"input_spec":{},"output_spec":{}}}]}`), 0o600))
	base, stop := start(t, "-fixtures", path)
	status, _ := get(t, base+"/projects/9", "ApiKey tolokatest-credential")
	assert.Equal(t, http.StatusOK, status)
	status, _ = get(t, base+"/pools/1", "ApiKey tolokatest-credential")
	assert.Equal(t, http.StatusNotFound, status, "no demo data with -fixtures")
	require.NoError(t, stop())
}

func TestBadFlags(t *testing.T) {
	t.Parallel()
	assert.Error(t, run(context.Background(), []string{"-credential", ""}, io.Discard))
	assert.Error(t, run(context.Background(), []string{"-addr", "127.0.0.1:0", "-fixtures", "/nonexistent.json"}, io.Discard))
	assert.Error(t, run(context.Background(), []string{"-nope"}, io.Discard))
}

func post(t *testing.T, url, body string) int {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "ApiKey tolokatest-credential")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestTaskQuotaFlags(t *testing.T) {
	t.Parallel()
	base, stop := start(t, "-task-quota-minute", "3", "-clock-scale", "60")
	task := `{"pool_id":"1","input_values":{"image":"https://example.com/1.png"}}`
	url := base + "/tasks?allow_defaults=true&skip_invalid_items=true"
	assert.Equal(t, http.StatusTooManyRequests, post(t, url, "["+strings.Repeat(task+",", 3)+task+"]"), "4 tasks are over a quota of 3")
	assert.Equal(t, http.StatusCreated, post(t, url, "["+task+","+task+","+task+"]"))
	require.NoError(t, stop())
	assert.Error(t, run(context.Background(), []string{"-clock-scale", "0"}, io.Discard))
	assert.Error(t, run(context.Background(), []string{"-task-quota-minute", "-1"}, io.Discard))
}
