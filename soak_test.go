package toloka_test

// Soak tests of issue 6: uploads against tolokatest while a seeded share of
// requests fails, proving that retries never lose or duplicate a task.
//
// Nothing sleeps. The retry loop's sleeper (WithRetryHooks) and the wait's
// sleeper (WithWaitSleeper) advance the fake's ManualClock instead, so a
// per-minute quota is waited out in fake time. Every fault comes from a
// generator seeded from one seed and requests are sent one at a time, so a
// seed replays the same run; a failing run prints its seed, and
//
//	TOLOKA_SOAK_SEED=<seed> go test -race -run 'Soak' -v .
//
// replays it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/tolokatest"
)

// Pools of the soak fixture.
const (
	soakTaskPool  = "21" // smart mixing: tasks
	soakSuitePool = "22" // no mixer: task suites
	soakEmptyPool = "23" // smart mixing, left empty
)

// defaultSoakSeed is the seed CI runs; TOLOKA_SOAK_SEED overrides it.
const defaultSoakSeed = 0x70_10_4a_2024

// soakSeed returns the run's seed and makes a failing test print it.
func soakSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(defaultSoakSeed)
	if s := os.Getenv("TOLOKA_SOAK_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 0, 64)
		require.NoError(t, err, "TOLOKA_SOAK_SEED must be an unsigned integer")
		seed = v
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("soak seed %d: replay with TOLOKA_SOAK_SEED=%d go test -race -run '^%s$' -v .", seed, seed, t.Name())
		}
	})
	return seed
}

// seededUUID draws a canonical version-4 UUID from rng, so the operation
// ids of a run follow from its seed.
func seededUUID(rng *rand.Rand) string {
	var u uuid.UUID
	binary.LittleEndian.PutUint64(u[:8], rng.Uint64())
	binary.LittleEndian.PutUint64(u[8:], rng.Uint64())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// postAttempt is one POST as the server saw it.
type postAttempt struct {
	attempt     int    // the client's X-Request-Attempt
	status      int    // the answer's status; 0 when the connection was dropped
	operationID string // the operation_id query parameter, if any
}

// faultFront is an http.Handler in front of a tolokatest.Server. It answers
// a seeded share of requests with the per-minute quota 429 of toloka-api.md
// §17.2 — {"code":"TOO_MANY_REQUESTS", "payload":{"interval":"MIN"}}, with or
// without Retry-After — which the fake's random faults do not draw (their
// 429 has no payload), and it records every POST attempt by request body.
type faultFront struct {
	next      http.Handler
	quotaRate float64

	mu        sync.Mutex
	rng       *rand.Rand
	requests  int
	quota429  map[string]int           // by method and path
	posts     map[uint64][]postAttempt // by FNV-64 of the body
	postOrder []uint64                 // bodies in order of first arrival
}

func newFaultFront(next http.Handler, seed uint64, quotaRate float64) *faultFront {
	return &faultFront{
		next: next, quotaRate: quotaRate,
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		quota429: map[string]int{},
		posts:    map[uint64][]postAttempt{},
	}
}

func (f *faultFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var key uint64
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := fnv.New64a()
		h.Write(body)
		key = h.Sum64()
	}
	f.mu.Lock()
	f.requests++
	quota := f.rng.Float64() < f.quotaRate
	retryAfter := f.rng.IntN(120) // seconds; 60 and above: no header
	f.mu.Unlock()

	rec := &recordingWriter{ResponseWriter: w}
	if quota {
		if retryAfter < 60 {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter+1))
		}
		w.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(rec, `{"request_id":"front-%d","code":"TOO_MANY_REQUESTS","message":"Too many requests: the quota of this method per minute is spent","payload":{"interval":"MIN"}}`, retryAfter)
	} else {
		f.next.ServeHTTP(rec, r)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if quota {
		f.quota429[r.Method+" "+r.URL.Path]++
	}
	if r.Method == http.MethodPost {
		attempt, _ := strconv.Atoi(r.Header.Get(toloka.AttemptHeader))
		status := rec.status
		if rec.dropped {
			status = 0
		}
		if _, seen := f.posts[key]; !seen {
			f.postOrder = append(f.postOrder, key)
		}
		f.posts[key] = append(f.posts[key], postAttempt{attempt: attempt, status: status, operationID: r.URL.Query().Get("operation_id")})
	}
}

// quotaFaults returns how many requests got the front's quota 429, and how
// many of them were POSTs.
func (f *faultFront) quotaFaults() (all, posts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for route, n := range f.quota429 {
		all += n
		if strings.HasPrefix(route, http.MethodPost+" ") {
			posts += n
		}
	}
	return all, posts
}

// recordingWriter notes the status of an answer and whether the connection
// was taken over (to be dropped) instead.
type recordingWriter struct {
	http.ResponseWriter
	status  int
	dropped bool
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Hijack hands the connection to the fake, which closes it to lose an answer.
func (w *recordingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.dropped = true
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("no hijacker")
	}
	return hj.Hijack()
}

// soakRig is a tolokatest server behind a faultFront, a client wired to it
// with sleep-free retries and waits, and the counters of what happened.
type soakRig struct {
	server *tolokatest.Server
	front  *faultFront
	clock  *tolokatest.ManualClock
	client *toloka.Client

	mu          sync.Mutex
	jitter      *rand.Rand
	retryDelays []time.Duration
	waitDelays  []time.Duration
}

type rigConfig struct {
	seed       uint64
	faults     tolokatest.FaultRates // drawn by the fake
	quotaRate  float64               // share of requests the front answers with a quota 429
	serverOpts []tolokatest.Option
	policy     toloka.RetryPolicy
}

func newSoakRig(t *testing.T, cfg rigConfig) *soakRig {
	t.Helper()
	rig := &soakRig{
		clock:  tolokatest.NewManualClock(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)),
		jitter: rand.New(rand.NewPCG(cfg.seed, 0x6a09e667f3bcc908)),
	}
	opts := []tolokatest.Option{tolokatest.WithClock(rig.clock), tolokatest.WithSeed(cfg.seed)}
	if cfg.faults != (tolokatest.FaultRates{}) {
		opts = append(opts, tolokatest.WithRandomFaults(cfg.seed, cfg.faults))
	}
	rig.server = tolokatest.NewServerT(t, append(opts, cfg.serverOpts...)...)
	require.NoError(t, rig.server.Seed(tolokatest.Fixtures{
		Projects: []toloka.Project{{ID: "1", TaskSpec: toloka.TaskSpec{
			InputSpec:  map[string]toloka.FieldSpec{"key": {Type: toloka.FieldString, Required: true}},
			OutputSpec: map[string]toloka.FieldSpec{"result": {Type: toloka.FieldString, Required: true}},
		}}},
		Pools: []toloka.Pool{
			{ID: soakTaskPool, ProjectID: "1", MixerConfig: &toloka.MixerConfig{RealTasksCount: 5},
				Defaults: &toloka.PoolDefaults{DefaultOverlapForNewTasks: toloka.Ptr(int64(1))}},
			{ID: soakSuitePool, ProjectID: "1", Defaults: &toloka.PoolDefaults{DefaultOverlapForNewTaskSuites: toloka.Ptr(int64(2))}},
			{ID: soakEmptyPool, ProjectID: "1", MixerConfig: &toloka.MixerConfig{RealTasksCount: 5}},
		},
	}))
	rig.front = newFaultFront(rig.server, cfg.seed, cfg.quotaRate)
	hs := httptest.NewServer(rig.front) // 127.0.0.1
	t.Cleanup(hs.Close)
	policy := cfg.policy
	if policy == (toloka.RetryPolicy{}) {
		policy = toloka.DefaultRetryPolicy()
	}
	client, err := toloka.NewClient(
		toloka.WithBaseURL(hs.URL+tolokatest.APIPrefix),
		toloka.WithAPIKey(rig.server.Credential()),
		toloka.WithHTTPClient(hs.Client()),
		toloka.WithRetryPolicy(policy),
		toloka.WithRetryHooks(rig.retrySleep, nil, rig.random),
	)
	require.NoError(t, err)
	rig.client = client
	return rig
}

// retrySleep stands in for the retry loop's timer: it records the delay and
// moves the fake's clock instead of waiting.
func (r *soakRig) retrySleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.retryDelays = append(r.retryDelays, d)
	r.mu.Unlock()
	r.clock.Advance(d)
	return ctx.Err()
}

// waitSleep stands in for the pause between polls.
func (r *soakRig) waitSleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waitDelays = append(r.waitDelays, d)
	r.mu.Unlock()
	r.clock.Advance(d)
	return ctx.Err()
}

func (r *soakRig) random() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.jitter.Float64()
}

// slept returns the retry delays and poll pauses so far, in fake time.
func (r *soakRig) slept() (retries int, retryTotal time.Duration, polls int, pollTotal time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range r.retryDelays {
		retryTotal += d
	}
	for _, d := range r.waitDelays {
		pollTotal += d
	}
	return len(r.retryDelays), retryTotal, len(r.waitDelays), pollTotal
}

// soakTask is task number n of a run; its input is unique, so the server's
// copy of it can be counted.
func soakTask(n int) toloka.Task {
	return toloka.Task{PoolID: soakTaskPool, InputValues: toloka.Values{"key": soakKey(n)}, Overlap: toloka.FiniteOverlap(1)}
}

func soakKey(n int) string { return fmt.Sprintf("soak-%07d", n) }

// serverCounts counts the tasks of a pool by their "key" input, and keeps
// the id of each.
func serverCounts(t *testing.T, s *tolokatest.Server, pool string) (count map[string]int, id map[string]string) {
	t.Helper()
	tasks := s.Tasks(pool)
	count, id = make(map[string]int, len(tasks)), make(map[string]string, len(tasks))
	for _, task := range tasks {
		key, ok := task.InputValues["key"].(string)
		require.True(t, ok, "stored task %s has no key: %v", task.ID, task.InputValues)
		count[key]++
		id[key] = task.ID
	}
	return count, id
}

// soakFaultRates are the rates, over all requests: 10% answered
// 5xx, 5% a per-minute quota 429 (drawn by the front), 5% applied and then
// dropped. The fake draws on the 95% of requests the front passes on, and a
// fifth of its status faults are plain 429s (no payload), hence the scaling;
// they add about 2.4% of rate-limit 429s.
func soakFaultRates(quotaRate float64) tolokatest.FaultRates {
	passed := 1 - quotaRate
	return tolokatest.FaultRates{
		Status:    0.10 / (4.0 / 5.0) / passed,
		DropAfter: 0.05 / passed,
	}
}

// soakUpload uploads batches one at a time, alternating CreateTasksAndWait
// with CreateTasksAsync + WaitOperation + ReadUploadResults, and resumes any
// step that still fails after the client's retries the documented way: the
// same call again with the same operation id.
type soakUpload struct {
	rig     *soakRig
	rng     *rand.Rand
	resumes int
	opIDs   []string
	polls   atomic.Int64 // progress callbacks
}

func (u *soakUpload) waitOptions() []toloka.CallOption {
	return []toloka.CallOption{
		toloka.WithWaitSleeper(u.rig.waitSleep),
		toloka.WithProgress(func(toloka.OperationProgress) { u.polls.Add(1) }),
	}
}

// resumable says whether an error leaves the batch in doubt (a lost answer
// or retries spent), so that the same call with the same operation id is the
// cure; a failed or incomplete operation is a verdict and fails the test.
func resumable(err error) bool {
	return !errors.Is(err, toloka.ErrOperationFailed) && !errors.Is(err, toloka.ErrIncompleteResults) &&
		!errors.Is(err, toloka.ErrValidation) && !errors.Is(err, context.Canceled)
}

// step runs fn until it succeeds, resuming at most maxResumes times.
func (u *soakUpload) step(t *testing.T, what string, fn func() error) {
	t.Helper()
	const maxResumes = 10
	for try := 0; ; try++ {
		err := fn()
		if err == nil {
			return
		}
		require.True(t, resumable(err) && try < maxResumes, "%s: %v", what, err)
		u.resumes++
		t.Logf("%s: resuming after: %v", what, err)
	}
}

// batch uploads one batch of tasks numbered from first under a seeded
// operation id and returns the created id of every task number.
func (u *soakUpload) batch(t *testing.T, ctx context.Context, first int, tasks []toloka.Task, andWait bool) map[int]string {
	t.Helper()
	id := seededUUID(u.rng)
	u.opIDs = append(u.opIDs, id)
	what := fmt.Sprintf("batch of tasks %d..%d, operation %s", first, first+len(tasks)-1, id)
	created := map[int]string{}
	if andWait {
		u.step(t, what+": CreateTasksAndWait", func() error {
			res, err := u.rig.client.CreateTasksAndWait(ctx, tasks, append(u.waitOptions(), toloka.WithOperationID(id))...)
			if err != nil {
				return err
			}
			require.Empty(t, res.ValidationErrors, what)
			for index, task := range res.Items {
				require.Equal(t, tasks[index].InputValues["key"], task.InputValues["key"], "%s: item %d", what, index)
				created[first+index] = task.ID
			}
			return nil
		})
		return created
	}
	u.step(t, what+": CreateTasksAsync", func() error {
		op, err := u.rig.client.CreateTasksAsync(ctx, tasks, toloka.WithOperationID(id))
		if err == nil {
			require.Equal(t, id, op.ID, what)
		}
		return err
	})
	u.step(t, what+": WaitOperation", func() error {
		op, err := u.rig.client.WaitOperation(ctx, id, u.waitOptions()...)
		if err == nil {
			require.Equal(t, toloka.OperationSuccess, op.Status, what)
		}
		return err
	})
	u.step(t, what+": ReadUploadResults", func() error {
		res, err := u.rig.client.ReadUploadResults(ctx, id, len(tasks))
		if err != nil {
			return err
		}
		require.Empty(t, res.MissingIndexes(len(tasks)), what)
		require.Empty(t, res.Unmatched, what)
		require.Empty(t, res.ValidationErrors, what)
		for index, taskID := range res.Created {
			created[first+index] = taskID
		}
		return nil
	})
	return created
}

// shardStats is what one soak shard saw.
type shardStats struct {
	batches, requests, resumes, progress       int
	status5xx, status429, dropAfter, quota     int
	post5xx, postDropAfter, postQuota, adopted int
	fakeQuota, retries, pauses                 int
	retryWait, pauseWait, upload               time.Duration
}

func (s *shardStats) add(o shardStats) {
	s.batches += o.batches
	s.requests += o.requests
	s.resumes += o.resumes
	s.progress += o.progress
	s.status5xx += o.status5xx
	s.status429 += o.status429
	s.dropAfter += o.dropAfter
	s.quota += o.quota
	s.post5xx += o.post5xx
	s.postDropAfter += o.postDropAfter
	s.postQuota += o.postQuota
	s.adopted += o.adopted
	s.fakeQuota += o.fakeQuota
	s.retries += o.retries
	s.pauses += o.pauses
	s.retryWait += o.retryWait
	s.pauseWait += o.pauseWait
	s.upload = max(s.upload, o.upload)
}

// soakShard uploads tasks first..first+n-1 in batches of batch to a server
// of its own, one batch at a time, under the faults drawn from seed,
// and checks that every one was created exactly once and is accounted for
// by index.
func soakShard(t *testing.T, seed uint64, first, n, batch int) shardStats {
	const quotaRate = 0.05
	rig := newSoakRig(t, rigConfig{
		seed:      seed,
		faults:    soakFaultRates(quotaRate),
		quotaRate: quotaRate,
		serverOpts: []tolokatest.Option{
			tolokatest.WithPace(tolokatest.FinishAfterPolls(2)),
			// The fake's own per-minute quota on its manual clock, which only
			// the client's (fake) waits move forward.
			tolokatest.WithTaskQuota(tolokatest.Quota{PerMinute: 5 * batch}),
		},
	})
	ctx := t.Context()
	up := &soakUpload{rig: rig, rng: rand.New(rand.NewPCG(seed, 0xbb67ae8584caa73b))}
	started := time.Now()
	createdID := make(map[int]string, n)
	for from := first; from < first+n; from += batch {
		tasks := make([]toloka.Task, 0, batch)
		for k := from; k < min(from+batch, first+n); k++ {
			tasks = append(tasks, soakTask(k))
		}
		for k, id := range up.batch(t, ctx, from, tasks, ((from-first)/batch)%2 == 0) {
			createdID[k] = id
		}
	}
	stats := shardStats{batches: len(up.opIDs), resumes: up.resumes, progress: int(up.polls.Load()), upload: time.Since(started)}

	// Every input accounted for by index, created exactly once on the
	// server, under the id the results gave.
	count, serverID := serverCounts(t, rig.server, soakTaskPool)
	require.Len(t, createdID, n, "per-index results must account for every task")
	var missing, dup, wrongID int
	for k := first; k < first+n; k++ {
		key := soakKey(k)
		switch c := count[key]; {
		case c == 0:
			missing++
		case c > 1:
			dup++
		case serverID[key] != createdID[k]:
			wrongID++
		}
	}
	assert.Zero(t, missing, "tasks lost")
	assert.Zero(t, dup, "tasks created more than once")
	assert.Zero(t, wrongID, "tasks whose result id is not the server's")
	assert.Len(t, count, n, "the pool holds tasks the upload did not send")

	// One operation per batch, under the id the client chose: no retry ever
	// started a second one.
	ours := map[string]bool{}
	for _, id := range up.opIDs {
		ours[id] = true
	}
	var ops int
	for _, op := range rig.server.Operations() {
		if op.Type != toloka.OperationTaskBatchCreate {
			continue
		}
		ops++
		assert.True(t, ours[op.ID], "operation %s was not one of ours", op.ID)
		assert.Equal(t, toloka.OperationSuccess, op.Status, "operation %s", op.ID)
	}
	assert.Equal(t, len(up.opIDs), ops, "operations on the server")

	// Every POST carried its batch's operation id on every attempt.
	front := rig.front
	front.mu.Lock()
	for _, key := range front.postOrder {
		attempts := front.posts[key]
		for _, a := range attempts[1:] {
			assert.Equal(t, attempts[0].operationID, a.operationID, "a retry changed the operation_id")
		}
	}
	stats.requests = front.requests
	front.mu.Unlock()

	var postStatus429 int
	for _, ev := range rig.server.FaultEvents() {
		post := ev.Route == tolokatest.RouteCreateTasks
		switch s := ev.Fault.String(); {
		case s == "drop after apply":
			stats.dropAfter++
			if post {
				stats.postDropAfter++
			}
		case s == "status 429":
			stats.status429++
			if post {
				postStatus429++
			}
		default:
			stats.status5xx++
			if post {
				stats.post5xx++
			}
		}
	}
	stats.quota, stats.postQuota = front.quotaFaults()
	stats.adopted = rig.server.RequestCount(tolokatest.RouteCreateTasks, http.StatusConflict)
	stats.fakeQuota = rig.server.RequestCount(tolokatest.RouteCreateTasks, http.StatusTooManyRequests) - postStatus429
	stats.retries, stats.retryWait, stats.pauses, stats.pauseWait = rig.slept()
	return stats
}

// runAsyncSoak uploads total tasks through shards servers at once (each its
// own fake, fed one batch at a time, so each replays exactly from its seed),
// then checks that the run met every kind of fault at about the issue's
// rates; otherwise it would prove nothing.
func runAsyncSoak(t *testing.T, total, batch, shards int) {
	seed := soakSeed(t)
	per := total / shards
	results := make([]shardStats, shards)
	t.Run("shards", func(t *testing.T) {
		for k := range shards {
			t.Run(fmt.Sprintf("shard%d", k), func(t *testing.T) {
				t.Parallel()
				results[k] = soakShard(t, seed+uint64(k)*0x9e3779b97f4a7c15, k*per, per, batch)
			})
		}
	})
	if t.Failed() {
		return
	}
	var all shardStats
	for _, r := range results {
		all.add(r)
	}
	share := func(n int) float64 { return float64(n) / float64(all.requests) }
	t.Logf("seed %d: %d tasks in %d batches of %d through %d servers, %d requests; the slowest shard's upload took %v (real time)",
		seed, total, all.batches, batch, shards, all.requests, all.upload.Round(time.Millisecond))
	t.Logf("faults: 5xx %d (%.1f%%, %d on POST /tasks), quota 429 MIN %d (%.1f%%, %d on POST), plain 429 %d (%.1f%%), dropped after apply %d (%.1f%%, %d on POST), the fake's own quota 429 %d",
		all.status5xx, 100*share(all.status5xx), all.post5xx, all.quota, 100*share(all.quota), all.postQuota,
		all.status429, 100*share(all.status429), all.dropAfter, 100*share(all.dropAfter), all.postDropAfter, all.fakeQuota)
	t.Logf("recovery: %d retries waiting %v of fake time, %d OPERATION_ALREADY_EXISTS adopted, %d resumes; waits: %d pauses (%v of fake time), %d progress reports",
		all.retries, all.retryWait, all.adopted, all.resumes, all.pauses, all.pauseWait, all.progress)
	assert.InDelta(t, 0.10, share(all.status5xx), 0.04, "share of 5xx")
	assert.InDelta(t, 0.05, share(all.quota), 0.03, "share of quota 429s")
	assert.InDelta(t, 0.05, share(all.dropAfter), 0.03, "share of answers lost after apply")
	assert.Positive(t, all.post5xx, "no upload met a 5xx")
	assert.Positive(t, all.postQuota, "no upload met a quota 429")
	assert.Positive(t, all.postDropAfter, "no upload lost its answer after the server applied it")
	assert.Positive(t, all.adopted, "no lost upload was adopted through OPERATION_ALREADY_EXISTS")
	assert.Positive(t, all.fakeQuota, "the fake's own per-minute quota never refused an upload")
}

// TestSoakAsyncUploadExactlyOnce is issue 6's soak: 100,000 tasks uploaded
// asynchronously while about 10% of requests fail with 5xx, 5% meet a
// per-minute quota 429 and 5% lose their answer after the server applied
// them.
func TestSoakAsyncUploadExactlyOnce(t *testing.T) {
	t.Parallel()
	runAsyncSoak(t, 100_000, soakBatch, soakShards)
}

// soakBatch is the size of a soak batch. Toloka takes up to 10,000 per async
// request, but 10 requests cannot show a 5% fault rate: batches of 1,000 make
// 100 uploads, so every kind of fault hits uploads several times.
const soakBatch = 1000

// soakShards is how many fake servers share the soak. Requests to one fake
// go one at a time, so that its seeded faults meet the same requests in
// every run; shards let the soak use more than one core all the same.
const soakShards = 4

// TestSoakSyncNeverDuplicates is issue 6's sync drill: synchronous creates
// under the same kinds of faults. A sync create has no idempotency key, so
// the client may resend it only after a 429 (a refusal); every other failure
// must surface as ErrOutcomeUnknown, and no input may ever exist twice.
func TestSoakSyncNeverDuplicates(t *testing.T) {
	t.Parallel()
	seed := soakSeed(t)
	const quotaRate = 0.05
	rates := soakFaultRates(quotaRate)
	rates.DropBefore = 0.03 // refused before apply: the client cannot tell either
	rig := newSoakRig(t, rigConfig{seed: seed, faults: rates, quotaRate: quotaRate})
	ctx := t.Context()

	const calls, perCall = 400, 10
	type outcome int
	const (
		created outcome = iota + 1
		unknown
		refused // rate-limited to the end: a definite "not applied"
	)
	outcomes := make([]outcome, calls)
	ids := make([]map[int]string, calls)
	for call := range calls {
		tasks := make([]toloka.Task, perCall)
		for i := range tasks {
			tasks[i] = soakTask(call*perCall + i)
		}
		res, err := rig.client.CreateTasks(ctx, tasks)
		switch {
		case err == nil:
			require.Empty(t, res.ValidationErrors)
			require.Len(t, res.Items, perCall)
			outcomes[call], ids[call] = created, map[int]string{}
			for i, task := range res.Items {
				ids[call][i] = task.ID
			}
		case errors.Is(err, toloka.ErrOutcomeUnknown):
			outcomes[call] = unknown
		case errors.Is(err, toloka.ErrRateLimited):
			outcomes[call] = refused
		default:
			require.Failf(t, "a sync create failed neither as outcome-unknown nor as a definite error", "call %d: %v", call, err)
		}
	}

	count, serverID := serverCounts(t, rig.server, soakTaskPool)
	tally := map[string]int{}
	for call, o := range outcomes {
		var present int
		for i := range perCall {
			key := soakKey(call*perCall + i)
			require.LessOrEqual(t, count[key], 1, "%s created %d times", key, count[key])
			present += count[key]
			if o == created {
				require.Equal(t, 1, count[key], "call %d succeeded but %s is not on the server", call, key)
				require.Equal(t, serverID[key], ids[call][i], "call %d: id of %s", call, key)
			}
		}
		switch o {
		case created:
			tally["created"]++
		case refused:
			require.Zero(t, present, "call %d was refused with 429 but created items", call)
			tally["refused"]++
		case unknown:
			// The fake applies a batch as a whole: all or none.
			require.Contains(t, []int{0, perCall}, present, "call %d", call)
			if present > 0 {
				tally["unknown, applied"]++
			} else {
				tally["unknown, not applied"]++
			}
		}
	}

	// Our retries: a POST is resent only after a 429, numbered 1, 2, 3...
	front := rig.front
	front.mu.Lock()
	var resentAfter429 int
	for _, key := range front.postOrder {
		attempts := front.posts[key]
		for i, a := range attempts {
			require.Equal(t, i+1, a.attempt, "attempts of one request must be numbered 1, 2, ...: %+v", attempts)
			if i > 0 {
				require.Equal(t, http.StatusTooManyRequests, attempts[i-1].status,
					"a sync create was resent after %d (0: dropped), which may duplicate it: %+v", attempts[i-1].status, attempts)
				resentAfter429++
			}
		}
	}
	posts := len(front.postOrder)
	front.mu.Unlock()

	t.Logf("seed %d: %d sync calls of %d tasks (%d distinct POST bodies): %v; %d resends, all after a 429", seed, calls, perCall, posts, tally, resentAfter429)
	assert.Equal(t, calls, posts, "one request body per call")
	// The drill is only worth something if every branch happened: lost
	// answers whose batch exists (a blind retry would have duplicated it),
	// failures that created nothing, and 429s retried to success.
	assert.Positive(t, tally["unknown, applied"])
	assert.Positive(t, tally["unknown, not applied"])
	assert.Positive(t, tally["created"])
	assert.Positive(t, resentAfter429)
}
