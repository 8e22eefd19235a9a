package tolokatest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/tolokatest"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	s := newFixture(t, tolokatest.WithCredential("secret-key"), tolokatest.WithReadOnlyCredential("viewer"))
	cases := []struct {
		auth   string
		method string
		status int
		code   string
	}{
		{"", "GET", http.StatusUnauthorized, toloka.CodeAuthenticationError},
		{"Bearer secret-key", "GET", http.StatusUnauthorized, toloka.CodeAuthenticationError},
		{"ApiKey wrong", "GET", http.StatusUnauthorized, toloka.CodeAuthenticationError},
		{"OAuth wrong", "GET", http.StatusUnauthorized, toloka.CodeOAuthAuthenticationError},
		{"ApiKey secret-key", "GET", http.StatusOK, ""},
		{"OAuth secret-key", "GET", http.StatusOK, ""},
		{"ApiKey viewer", "GET", http.StatusOK, ""},
		{"ApiKey viewer", "POST", http.StatusForbidden, toloka.CodeAccessDenied},
	}
	for _, tc := range cases {
		path, body := "/pools/21", ""
		if tc.method == "POST" {
			path, body = "/tasks?allow_defaults=true", task(smartPool, "http://x")
		}
		r := callAuth(t, s, tc.method, path, body, tc.auth)
		assert.Equal(t, tc.status, r.status, "%q", tc.auth)
		if tc.code != "" {
			m := r.json(t)
			assert.Equal(t, tc.code, m["code"], "%q", tc.auth)
			assert.NotContains(t, string(r.body), "secret-key", "the credential never appears in an answer")
		}
	}
	assert.Zero(t, s.TaskCount(smartPool))
	c, err := s.Client()
	require.NoError(t, err)
	_, err = c.GetPool(t.Context(), smartPool)
	require.NoError(t, err, "Client carries the server's credential")
	assert.Equal(t, "secret-key", s.Credential())
}

func TestRouting(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	r := call(t, s, "GET", "/nothing-here", "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, toloka.CodeNotFound, r.json(t)["code"])
	r = call(t, s, "DELETE", "/tasks", "")
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	assert.Equal(t, toloka.CodeMethodNotAllowed, r.json(t)["code"])
	req, _ := http.NewRequest("POST", s.URL()+"/tasks", strings.NewReader(task(smartPool, "http://x")))
	req.Header.Set("Authorization", "ApiKey "+s.Credential())
	req.Header.Set("Content-Type", "text/plain")
	resp, err := s.HTTPClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
	assert.Equal(t, s.RootURL()+tolokatest.APIPrefix, s.URL())
	assert.True(t, strings.HasPrefix(s.URL(), "http://127.0.0.1:"))

	counts := s.RequestCounts()
	assert.Equal(t, 1, counts[""][http.StatusNotFound], "unknown paths count under the empty route")
	assert.Equal(t, 1, s.RequestCount(tolokatest.RouteCreateTasks, http.StatusUnsupportedMediaType))
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	clock := tolokatest.NewManualClock(t0())
	s := newFixture(t, tolokatest.WithClock(clock), tolokatest.WithRateLimit(2))
	assert.Equal(t, http.StatusOK, call(t, s, "GET", "/pools/21", "").status)
	assert.Equal(t, http.StatusOK, call(t, s, "GET", "/pools/21", "").status)
	r := call(t, s, "GET", "/pools/21", "")
	require.Equal(t, http.StatusTooManyRequests, r.status)
	m := r.json(t)
	assert.Equal(t, toloka.CodeTooManyRequests, m["code"])
	assert.Nil(t, m["payload"], "the per-second limit carries no payload.interval")
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	clock.Advance(time.Second)
	assert.Equal(t, http.StatusOK, call(t, s, "GET", "/pools/21", "").status)
}

func TestTaskQuota(t *testing.T) {
	t.Parallel()
	clock := tolokatest.NewManualClock(t0()) // 07:08:09
	s := newFixture(t, tolokatest.WithClock(clock), tolokatest.WithTaskQuota(tolokatest.Quota{PerMinute: 3, PerDay: 5}))
	two := "[" + task(smartPool, "http://1") + "," + task(smartPool, "http://2") + "]"
	require.Equal(t, http.StatusCreated, call(t, s, "POST", "/tasks?allow_defaults=true", two).status)
	r := call(t, s, "POST", "/tasks?allow_defaults=true", two)
	require.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, map[string]any{"interval": "MIN"}, r.json(t)["payload"])
	assert.Equal(t, "51", r.header.Get("Retry-After"), "until the minute ends")
	require.Equal(t, http.StatusCreated, call(t, s, "POST", "/tasks?allow_defaults=true", task(smartPool, "http://3")).status)
	clock.Advance(time.Minute)
	require.Equal(t, http.StatusCreated, call(t, s, "POST", "/tasks?allow_defaults=true", two).status)
	r = call(t, s, "POST", "/tasks?allow_defaults=true", task(smartPool, "http://6"))
	require.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, map[string]any{"interval": "DAY"}, r.json(t)["payload"])
	assert.Equal(t, 5, s.TaskCount(smartPool))
	// Suites have their own quota; with none set they are not limited.
	assert.Equal(t, http.StatusCreated, call(t, s, "POST", "/task-suites?allow_defaults=true", `{"pool_id":"22","tasks":[{"input_values":{"image":"http://s"}}]}`).status)
	assert.Equal(t, tolokatest.Quota{PerMinute: 200_000, PerDay: 4_000_000}, tolokatest.TaskQuota())
	assert.Equal(t, tolokatest.Quota{PerMinute: 100_000, PerDay: 2_000_000}, tolokatest.SuiteQuota())
}

func TestScaledClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c := tolokatest.NewScaledClock(start, 600)
	assert.False(t, c.Now().Before(start))
	assert.Equal(t, 100*time.Millisecond, c.RealDuration(time.Minute), "a minute lasts 100 ms")
	s := newFixture(t, tolokatest.WithClock(c), tolokatest.WithSuiteQuota(tolokatest.Quota{PerMinute: 1}))
	suite := `{"pool_id":"22","tasks":[{"input_values":{"image":"http://s"}}]}`
	call(t, s, "POST", "/task-suites?allow_defaults=true", suite)
	r := call(t, s, "POST", "/task-suites?allow_defaults=true", suite)
	if r.status == http.StatusTooManyRequests { // unless a scaled minute passed in between
		assert.Equal(t, "1", r.header.Get("Retry-After"), "Retry-After is in real seconds, at least 1")
	}
}

func TestInjectedStatusFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		code   string
	}{
		{500, toloka.CodeInternalError}, {502, toloka.CodeRemoteServiceUnavailable}, {503, toloka.CodeRemoteServiceUnavailable},
		{504, toloka.CodeRemoteServiceUnavailable}, {429, toloka.CodeTooManyRequests},
	} {
		s := newFixture(t)
		s.InjectFault(tolokatest.RouteCreateTasks, 2, tolokatest.ErrorStatus(tc.status, 3*time.Second))
		assert.Equal(t, http.StatusOK, call(t, s, "GET", "/pools/21", "").status, "other routes are untouched")
		for i := 0; i < 2; i++ {
			r := call(t, s, "POST", "/tasks?allow_defaults=true", task(smartPool, "http://x"))
			require.Equal(t, tc.status, r.status)
			assert.Equal(t, tc.code, r.json(t)["code"])
			assert.Equal(t, "3", r.header.Get("Retry-After"))
		}
		assert.Zero(t, s.TaskCount(smartPool), "a failed request is not applied")
		assert.Equal(t, http.StatusCreated, call(t, s, "POST", "/tasks?allow_defaults=true", task(smartPool, "http://x")).status, "only the next 2 fail")
		assert.Equal(t, 2, s.RequestCount(tolokatest.RouteCreateTasks, tc.status))
	}
}

func TestInjectedBodyFaults(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	s.InjectFault(tolokatest.RouteAny, 1, tolokatest.HTMLError(http.StatusBadGateway))
	r := call(t, s, "GET", "/pools/21", "")
	assert.Equal(t, http.StatusBadGateway, r.status)
	assert.Contains(t, r.header.Get("Content-Type"), "text/html")
	assert.Contains(t, string(r.body), "<html>")

	c, err := s.Client()
	require.NoError(t, err)
	s.InjectFault(tolokatest.RouteCreateTasks, 1, tolokatest.TruncatedBody())
	_, err = c.CreateTask(t.Context(), toloka.Task{PoolID: smartPool, InputValues: toloka.Values{"image": "http://x"}}, toloka.CreateOptions{AllowDefaults: true})
	require.Error(t, err, "half a JSON body does not decode")
	assert.Equal(t, 1, s.TaskCount(smartPool), "but the request was applied")

	s.InjectFault(tolokatest.RouteCreateTasks, 1, tolokatest.DropBeforeApply())
	_, err = c.CreateTask(t.Context(), toloka.Task{PoolID: smartPool, InputValues: toloka.Values{"image": "http://x"}}, toloka.CreateOptions{AllowDefaults: true})
	require.Error(t, err)
	assert.Equal(t, 1, s.TaskCount(smartPool), "dropped before: not applied")
	assert.Equal(t, 1, s.RequestCount(tolokatest.RouteCreateTasks, 0))

	s.InjectFault(tolokatest.RouteCreateTasks, 1, tolokatest.DropAfterApply())
	_, err = c.CreateTask(t.Context(), toloka.Task{PoolID: smartPool, InputValues: toloka.Values{"image": "http://x"}}, toloka.CreateOptions{AllowDefaults: true})
	require.Error(t, err)
	assert.Equal(t, 2, s.TaskCount(smartPool), "dropped after: applied, answer lost")

	s.InjectFault(tolokatest.RouteGetPool, 5, tolokatest.ErrorStatus(500, 0))
	s.ClearFaults()
	assert.Equal(t, http.StatusOK, call(t, s, "GET", "/pools/21", "").status)
}

func TestInjectedLatency(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var slept []time.Duration
	sleeper := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		return nil
	}
	s := newFixture(t, tolokatest.WithSleeper(sleeper))
	s.InjectFault(tolokatest.RouteGetPool, 1, tolokatest.Latency(7*time.Second))
	assert.Equal(t, http.StatusOK, call(t, s, "GET", "/pools/21", "").status, "after the delay the request is served")
	call(t, s, "GET", "/pools/21", "")
	assert.Equal(t, []time.Duration{7 * time.Second}, slept)

	// A sleeper that fails (the client gave up) drops the request.
	stop := newFixture(t, tolokatest.WithSleeper(func(context.Context, time.Duration) error { return context.Canceled }))
	stop.InjectFault(tolokatest.RouteAny, 1, tolokatest.Latency(time.Hour))
	_, err := stop.HTTPClient().Get(stop.URL() + "/pools/21")
	require.Error(t, err)
	assert.Equal(t, "latency 1h0m0s", tolokatest.Latency(time.Hour).String())
}

func TestRandomFaultsAreReproducible(t *testing.T) {
	t.Parallel()
	rates := tolokatest.FaultRates{Status: 0.1, HTML: 0.05, DropBefore: 0.05, DropAfter: 0.05, Truncated: 0.05, Latency: 0.1, MaxLatency: time.Second}
	run := func(seed uint64) ([]tolokatest.FaultEvent, []int) {
		s := newFixture(t, tolokatest.WithRandomFaults(seed, rates), tolokatest.WithSleeper(func(context.Context, time.Duration) error { return nil }))
		hc := s.HTTPClient()
		var statuses []int
		for i := 0; i < 300; i++ {
			req, _ := http.NewRequest("GET", s.URL()+"/pools/21", nil)
			req.Header.Set("Authorization", "ApiKey "+s.Credential())
			resp, err := hc.Do(req)
			if err != nil {
				statuses = append(statuses, 0)
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses = append(statuses, resp.StatusCode)
		}
		return s.FaultEvents(), statuses
	}
	ev1, st1 := run(42)
	ev2, st2 := run(42)
	ev3, _ := run(43)
	assert.Equal(t, ev1, ev2, "same seed, same faults")
	assert.Equal(t, st1, st2)
	assert.NotEqual(t, ev1, ev3)
	kinds := map[string]int{}
	for _, e := range ev1 {
		kinds[strings.Fields(e.Fault.String())[0]]++
	}
	assert.Greater(t, len(ev1), 60, "about 40%% of 300 requests meet a fault")
	assert.Less(t, len(ev1), 180)
	for _, k := range []string{"status", "html", "drop", "truncated", "latency"} {
		assert.Positive(t, kinds[k], "fault kind %s never drawn", k)
	}
}

func TestParallelServers(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for n := 0; n < 8; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := tolokatest.NewServer(tolokatest.WithCredential(fmt.Sprint("key-", n)))
			defer s.Close()
			if _, err := s.AddProject(toloka.Project{ID: "1"}); err != nil {
				errs <- err
				return
			}
			if _, err := s.AddPool(toloka.Pool{ID: "21", ProjectID: "1", MixerConfig: &toloka.MixerConfig{RealTasksCount: 1}}); err != nil {
				errs <- err
				return
			}
			c, err := s.Client()
			if err != nil {
				errs <- err
				return
			}
			tasks := make([]toloka.Task, n+1)
			for i := range tasks {
				tasks[i] = toloka.Task{PoolID: "21", InputValues: toloka.Values{"i": i}, Overlap: toloka.FiniteOverlap(1)}
			}
			if _, err := c.CreateTasks(context.Background(), tasks); err != nil {
				errs <- err
				return
			}
			if got := s.TaskCount("21"); got != n+1 {
				errs <- fmt.Errorf("server %d holds %d tasks", n, got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Concurrent batches into one pool keep the pool's ids in order.
func TestConcurrentBatchesOnePool(t *testing.T) {
	t.Parallel()
	s := newFixture(t)
	c, err := s.Client()
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tasks := make([]toloka.Task, 2500)
			for i := range tasks {
				tasks[i] = toloka.Task{PoolID: smartPool, InputValues: toloka.Values{"image": fmt.Sprintf("http://%d/%d", g, i)}, Overlap: toloka.FiniteOverlap(1)}
			}
			_, err := c.CreateTasks(context.Background(), tasks)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	got := s.Tasks(smartPool)
	require.Len(t, got, 10000)
	for i := 1; i < len(got); i++ {
		require.Less(t, got[i-1].ID, got[i].ID)
	}
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	require.NoError(t, json.Unmarshal(call(t, s, "GET", "/tasks?pool_id=21&limit=10000", "").body, &page))
	assert.Len(t, page.Items, 10000)
}

func TestRequestRefusedAsAWholeSpendsNoQuota(t *testing.T) {
	t.Parallel()
	clock := tolokatest.NewManualClock(t0())
	s := newFixture(t, tolokatest.WithClock(clock), tolokatest.WithTaskQuota(tolokatest.Quota{PerMinute: 2}))
	huge := "[" + task(smartPool, "http://"+strings.Repeat("x", 1<<20)) + "," + task(smartPool, "http://y") + "]"
	r := call(t, s, "POST", "/tasks?allow_defaults=true", huge)
	require.Equal(t, http.StatusBadRequest, r.status, "over the 1 MiB input budget")
	two := "[" + task(smartPool, "http://1") + "," + task(smartPool, "http://2") + "]"
	assert.Equal(t, http.StatusCreated, call(t, s, "POST", "/tasks?allow_defaults=true", two).status, "the refused request used none of the quota")
}
