package toloka

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults of the per-client cache of the pool and project lookups that
// validation makes before a create call.
const (
	// DefaultValidationCacheTTL is how long a looked-up pool or project is
	// trusted. A pool's mixer_config cannot change once tasks are in it; its
	// status (e.g. archived) can, and Toloka still refuses what a stale entry
	// lets through.
	DefaultValidationCacheTTL = 5 * time.Minute
	// DefaultValidationCacheSize is how many pools, and separately how many
	// projects, the cache keeps; the least recently used go first.
	DefaultValidationCacheSize = 256
)

// WithValidationCache sets how long pools and projects looked up for
// validation are kept (ttl) and how many of each (size). A ttl or size of 0
// turns caching off: every create call then looks its pools up again, though
// concurrent calls still share one request per pool. Negative values are an
// error.
func WithValidationCache(ttl time.Duration, size int) Option {
	return func(c *Client) error {
		if ttl < 0 || size < 0 {
			return fmt.Errorf("toloka: validation cache ttl %v and size %d must not be negative", ttl, size)
		}
		c.lookups = newLookups(ttl, size, time.Now)
		return nil
	}
}

// lookups holds one client's caches of GET /pools/{id} and GET /projects/{id}.
type lookups struct {
	pools    *cache[*Pool]
	projects *cache[*Project]
}

func newLookups(ttl time.Duration, size int, now func() time.Time) *lookups {
	return &lookups{
		pools:    newCache[*Pool](ttl, size, now),
		projects: newCache[*Project](ttl, size, now),
	}
}

// lookupPool returns the pool (or training) with the given id, or nil when
// neither exists. A training is looked up when GET /pools/{id} answers 404,
// because tasks for a training are uploaded with its id as pool_id
// (toloka-api.md §16.2); it is returned as a training Pool.
func (c *Client) lookupPool(ctx context.Context, id string) (*Pool, error) {
	return c.lookups.pools.get(ctx, id, func(ctx context.Context) (*Pool, error) {
		p, err := c.GetPool(ctx, id)
		if !errors.Is(err, ErrNotFound) {
			return p, err
		}
		t, err := c.getTrainingAsPool(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return t, err
	})
}

// lookupProject returns the project with the given id, or nil when it does
// not exist: its task_spec checks are advisory (toloka-api.md §14.1), so a
// missing project only skips them.
func (c *Client) lookupProject(ctx context.Context, id string) (*Project, error) {
	return c.lookups.projects.get(ctx, id, func(ctx context.Context) (*Project, error) {
		p, err := c.GetProject(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return p, err
	})
}

// getTrainingAsPool reads GET /trainings/{id} (toloka-api.md §16.1) as a
// Pool that is a training: no mixer_config, no defaults.
func (c *Client) getTrainingAsPool(ctx context.Context, id string) (*Pool, error) {
	var t struct {
		ID        string `json:"id"`
		ProjectID string `json:"project_id"`
		Status    string `json:"status"`
	}
	if err := c.getJSON(ctx, "trainings", id, &t, nil); err != nil {
		return nil, err
	}
	return &Pool{ID: t.ID, ProjectID: t.ProjectID, Status: t.Status, Training: true, Type: "TRAINING"}, nil
}

// cache is a bounded, expiring map whose misses are fetched once however many
// goroutines ask at the same time. Only successful fetches are stored.
type cache[V any] struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu       sync.Mutex
	entries  map[string]*list.Element // of *cacheEntry[V]
	lru      list.List                // front = most recently used
	inflight map[string]*flight[V]
}

type cacheEntry[V any] struct {
	key     string
	val     V
	expires time.Time
}

// flight is one fetch in progress; done is closed once val and err are set.
type flight[V any] struct {
	done    chan struct{}
	val     V
	err     error
	waiters int // goroutines waiting on done, for tests
}

func newCache[V any](ttl time.Duration, size int, now func() time.Time) *cache[V] {
	return &cache[V]{ttl: ttl, max: size, now: now, entries: map[string]*list.Element{}, inflight: map[string]*flight[V]{}}
}

// get returns the cached value for key, or fetches it. Concurrent callers of
// one key share a single fetch; one whose own ctx is done stops waiting. A
// fetch that failed only because its caller's ctx ended is retried by the
// waiters whose ctx is still live, so one impatient caller cannot fail others.
func (c *cache[V]) get(ctx context.Context, key string, fetch func(context.Context) (V, error)) (V, error) {
	var zero V
	for {
		c.mu.Lock()
		if el, ok := c.entries[key]; ok {
			e := el.Value.(*cacheEntry[V])
			if c.now().Before(e.expires) {
				c.lru.MoveToFront(el)
				c.mu.Unlock()
				return e.val, nil
			}
			c.lru.Remove(el)
			delete(c.entries, key)
		}
		if f, ok := c.inflight[key]; ok {
			f.waiters++
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return zero, ctx.Err()
			}
			if f.err != nil && isContextError(f.err) && ctx.Err() == nil {
				continue
			}
			return f.val, f.err
		}
		f := &flight[V]{done: make(chan struct{})}
		c.inflight[key] = f
		c.mu.Unlock()
		c.run(ctx, key, f, fetch)
		return f.val, f.err
	}
}

// run performs the fetch of f and publishes its result, even if fetch panics.
func (c *cache[V]) run(ctx context.Context, key string, f *flight[V], fetch func(context.Context) (V, error)) {
	f.err = errors.New("toloka: lookup did not complete")
	defer func() {
		c.mu.Lock()
		delete(c.inflight, key)
		if f.err == nil {
			c.store(key, f.val)
		}
		c.mu.Unlock()
		close(f.done)
	}()
	f.val, f.err = fetch(ctx)
}

// store adds a fetched value; c.mu is held.
func (c *cache[V]) store(key string, val V) {
	if c.ttl <= 0 || c.max <= 0 {
		return
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry[V]{key: key, val: val, expires: c.now().Add(c.ttl)})
	for c.lru.Len() > c.max {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry[V]).key)
	}
}

// len is the number of stored entries, expired ones included.
func (c *cache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// waiting is how many goroutines wait on the fetch of key, for tests.
func (c *cache[V]) waiting(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.inflight[key]; ok {
		return f.waiters
	}
	return -1
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
