package toloka

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// counter is a fetch function that counts its calls and returns its count.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) fetch(context.Context) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n, nil
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// waitForWaiters yields until n goroutines wait on the fetch of key.
func waitForWaiters[V any](c *cache[V], key string, n int) {
	for c.waiting(key) != n {
		runtime.Gosched()
	}
}

func TestCacheLooksUpOncePerExpiry(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c, mt := newValidationClient(t)
	c.lookups = newLookups(time.Minute, 16, clock.now)
	ctx := context.Background()
	tasks := []Task{validTask(), validTask()}

	require.NoError(t, c.ValidateTasks(ctx, tasks))
	_, err := c.CreateTasks(ctx, tasks)
	require.NoError(t, err)
	assert.Equal(t, 1, calls(mt, "GET", "/pools/mix"))
	assert.Equal(t, 1, calls(mt, "GET", "/projects/prj"))

	clock.advance(59 * time.Second)
	require.NoError(t, c.ValidateTasks(ctx, tasks))
	assert.Equal(t, 1, calls(mt, "GET", "/pools/mix"), "entry still fresh")

	clock.advance(time.Second)
	require.NoError(t, c.ValidateTasks(ctx, tasks))
	assert.Equal(t, 2, calls(mt, "GET", "/pools/mix"), "entry expired")
	assert.Equal(t, 2, calls(mt, "GET", "/projects/prj"))
}

func TestCacheBatchSpanningPoolsLooksUpEachOnce(t *testing.T) {
	t.Parallel()
	c, mt := newValidationClient(t)
	var tasks []Task
	for i := 0; i < 30; i++ {
		for _, id := range []string{"mix", "mix-golddist", "mix-nocontrol"} {
			tk := validTask()
			tk.PoolID = id
			tasks = append(tasks, tk)
		}
	}
	require.NoError(t, c.ValidateTasks(context.Background(), tasks))
	for _, id := range []string{"mix", "mix-golddist", "mix-nocontrol"} {
		assert.Equal(t, 1, calls(mt, "GET", "/pools/"+id), id)
	}
	assert.Equal(t, 1, calls(mt, "GET", "/projects/prj"), "pools share one project")
}

func TestCacheConcurrentCallersShareOneLookup(t *testing.T) {
	t.Parallel()
	c, mt := newValidationClient(t)
	release := make(chan struct{})
	mt.RegisterResponder(http.MethodGet, testBase+"/pools/mix", func(*http.Request) (*http.Response, error) {
		<-release
		return httpmock.NewStringResponse(200, testPools()["mix"]), nil
	})
	const callers = 8
	errs := make(chan error, callers)
	for i := 0; i < callers; i++ {
		go func() { errs <- c.ValidateTasks(context.Background(), []Task{validTask()}) }()
	}
	waitForWaiters(c.lookups.pools, "mix", callers-1)
	close(release)
	for i := 0; i < callers; i++ {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, 1, calls(mt, "GET", "/pools/mix"))
	assert.Equal(t, 1, calls(mt, "GET", "/projects/prj"))
}

func TestCacheIsBoundedLeastRecentlyUsedFirst(t *testing.T) {
	t.Parallel()
	c := newCache[int](time.Hour, 2, newFakeClock().now)
	var n counter
	ctx := context.Background()
	for _, key := range []string{"a", "b", "a", "c"} { // c evicts b, the least recently used
		_, err := c.get(ctx, key, n.fetch)
		require.NoError(t, err)
	}
	assert.Equal(t, 3, n.count())
	assert.Equal(t, 2, c.len())
	_, _ = c.get(ctx, "a", n.fetch)
	assert.Equal(t, 3, n.count(), "a was kept")
	_, _ = c.get(ctx, "b", n.fetch)
	assert.Equal(t, 4, n.count(), "b was evicted")
	assert.Equal(t, 2, c.len())
}

func TestCacheZeroTTLStoresNothing(t *testing.T) {
	t.Parallel()
	c := newCache[int](0, 10, newFakeClock().now)
	var n counter
	for i := 0; i < 3; i++ {
		v, err := c.get(context.Background(), "k", n.fetch)
		require.NoError(t, err)
		assert.Equal(t, i+1, v)
	}
	assert.Zero(t, c.len())
}

func TestCacheDoesNotStoreErrors(t *testing.T) {
	t.Parallel()
	c := newCache[int](time.Hour, 10, newFakeClock().now)
	boom := errors.New("boom")
	_, err := c.get(context.Background(), "k", func(context.Context) (int, error) { return 0, boom })
	require.ErrorIs(t, err, boom)
	v, err := c.get(context.Background(), "k", func(context.Context) (int, error) { return 7, nil })
	require.NoError(t, err)
	assert.Equal(t, 7, v)
}

func TestCacheWaiterStopsOnItsOwnContext(t *testing.T) {
	t.Parallel()
	c := newCache[int](time.Hour, 10, newFakeClock().now)
	release := make(chan struct{})
	leader := make(chan error, 1)
	go func() {
		_, err := c.get(context.Background(), "k", func(context.Context) (int, error) { <-release; return 1, nil })
		leader <- err
	}()
	for c.waiting("k") != 0 {
		runtime.Gosched() // until the leader's fetch is in flight
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.get(ctx, "k", func(context.Context) (int, error) { t.Error("waiter must not fetch"); return 0, nil })
	require.ErrorIs(t, err, context.Canceled)
	close(release)
	require.NoError(t, <-leader)
}

func TestCacheWaiterRetriesWhenLeaderIsCanceled(t *testing.T) {
	t.Parallel()
	c := newCache[int](time.Hour, 10, newFakeClock().now)
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leader := make(chan error, 1)
	go func() {
		_, err := c.get(leaderCtx, "k", func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() })
		leader <- err
	}()
	for c.waiting("k") != 0 {
		runtime.Gosched()
	}
	waiter := make(chan int, 1)
	go func() {
		v, err := c.get(context.Background(), "k", func(context.Context) (int, error) { return 42, nil })
		assert.NoError(t, err)
		waiter <- v
	}()
	waitForWaiters(c, "k", 1)
	cancelLeader()
	require.ErrorIs(t, <-leader, context.Canceled)
	assert.Equal(t, 42, <-waiter, "the waiter fetched for itself")
}

func TestWithValidationCache(t *testing.T) {
	t.Parallel()
	_, err := NewClient(WithAPIKey("k"), WithValidationCache(-time.Second, 1))
	require.Error(t, err)
	_, err = NewClient(WithAPIKey("k"), WithValidationCache(time.Second, -1))
	require.Error(t, err)

	c, mt := newValidationClient(t, WithValidationCache(0, 0))
	for i := 0; i < 2; i++ {
		require.NoError(t, c.ValidateTasks(context.Background(), []Task{validTask()}))
	}
	assert.Equal(t, 2, calls(mt, "GET", "/pools/mix"), "caching is off")
}
