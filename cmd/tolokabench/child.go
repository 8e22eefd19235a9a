package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gotoloka/toloka"
)

// childEnv marks a process started by the bench to run one workload.
const childEnv = "TOLOKABENCH_CHILD"

// resultPrefix starts the one line on which a child reports its result.
const resultPrefix = "TOLOKABENCH-RESULT "

// credential is tolokafake's default credential: it opens only the fake.
const credential = "tolokatest-credential"

// childResult is what a workload measured from the inside; the parent adds
// the process's own CPU time and peak RSS.
type childResult struct {
	Workload string
	Tasks    int64
	Created  int64
	Rejected int64
	Failed   int64
	// FailedBatches counts batches that failed (uploader workloads).
	FailedBatches int
	// Wall and CPU cover the measured phase only: the upload, not building
	// the input.
	Wall time.Duration
	CPU  time.Duration
	// Pacing workload.
	Pace *paceResult `json:",omitempty"`
}

// childMain runs one workload: args are the workload's name and its flags.
func childMain(args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "tolokabench child: which workload?")
		return 2
	}
	fs := flag.NewFlagSet("child "+args[0], flag.ContinueOnError)
	url := fs.String("url", "", "API base URL of the fake")
	tasks := fs.Int("tasks", 100_000, "tasks to upload")
	file := fs.String("file", "", "JSON Lines file (upload-jsonl)")
	quota := fs.Int("quota", 0, "tasks per minute (pace)")
	scale := fs.Float64("scale", 1, "clock speed-up (pace)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the measured phase here")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	w := workload{url: *url, tasks: *tasks, file: *file, quota: *quota, scale: *scale}
	run, ok := map[string]func(context.Context, *workload) (childResult, error){
		"baseline":     runBaseline,
		"upload":       runUpload,
		"upload-jsonl": runUploadJSONL,
		"pace":         runPace,
		"fake-sync":    runFakeSync,
		"fake-async":   runFakeAsync,
	}[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "tolokabench child: unknown workload %q\n", args[0])
		return 2
	}
	w.profile = *profile
	res, err := run(context.Background(), &w)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tolokabench child %s: %v\n", args[0], err)
		return 1
	}
	res.Workload = args[0]
	line, _ := json.Marshal(res)
	fmt.Printf("%s%s\n", resultPrefix, line)
	return 0
}

// workload is one child's settings and its measured phase.
type workload struct {
	url, file    string
	tasks, quota int
	scale        float64
	profile      string

	wallStart time.Time
	cpuStart  time.Duration
	stopProf  func()
}

// begin and end bracket the measured phase.
func (w *workload) begin() error {
	if w.profile != "" {
		f, err := os.Create(w.profile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		w.stopProf = func() { pprof.StopCPUProfile(); f.Close() }
	}
	w.cpuStart, w.wallStart = selfCPU(), time.Now()
	return nil
}

func (w *workload) end(r *childResult) {
	r.Wall, r.CPU = time.Since(w.wallStart), selfCPU()-w.cpuStart
	if w.stopProf != nil {
		w.stopProf()
	}
}

// imageURL is the benchmark input: https://example.com/img/0000001.png.
func imageURL(i int) string { return fmt.Sprintf("https://example.com/img/%07d.png", i) }

func newClient(url string) (*toloka.Client, error) {
	return toloka.NewClient(toloka.WithBaseURL(url), toloka.WithAPIKey(credential))
}

// runUpload: UploadTasks from a slice with default options, validation on,
// allow_defaults as the tasks carry no overlap — as a user would run it.
func runUpload(ctx context.Context, w *workload) (childResult, error) {
	c, err := newClient(w.url)
	if err != nil {
		return childResult{}, err
	}
	tasks := make([]toloka.Task, w.tasks)
	for i := range tasks {
		tasks[i] = toloka.Task{PoolID: "1", InputValues: toloka.Values{"image": imageURL(i)}}
	}
	return upload(ctx, w, c, toloka.TasksFromSlice(tasks))
}

// runUploadJSONL streams the file through TasksFromJSONL, default options
// but for the item quota.
func runUploadJSONL(ctx context.Context, w *workload) (childResult, error) {
	c, err := newClient(w.url)
	if err != nil {
		return childResult{}, err
	}
	f, err := os.Open(w.file)
	if err != nil {
		return childResult{}, err
	}
	defer f.Close()
	// Toloka's default quota (200,000 tasks a minute) would make this a
	// five-minute wait; the fake enforces none, and memory is the figure.
	return upload(ctx, w, c, toloka.TasksFromJSONL(f), toloka.WithItemQuota(0, 0))
}

func upload(ctx context.Context, w *workload, c *toloka.Client, src toloka.TaskSource, opts ...toloka.UploadOption) (childResult, error) {
	var seen atomic.Int64
	opts = append([]toloka.UploadOption{
		toloka.WithCallOptions(toloka.CreateOptions{AllowDefaults: true}),
		toloka.OnResult(func(toloka.ItemResult) { seen.Add(1) }),
	}, opts...)
	var res childResult
	if err := w.begin(); err != nil {
		return res, err
	}
	sum, err := c.UploadTasks(ctx, src, opts...)
	w.end(&res)
	if sum != nil {
		res.Tasks, res.Created, res.Rejected, res.Failed, res.FailedBatches = sum.Read, sum.Created, sum.Rejected, sum.Failed, sum.FailedBatchCount
	}
	if err != nil {
		return res, err
	}
	if seen.Load() != sum.Read {
		return res, fmt.Errorf("OnResult saw %d items of %d", seen.Load(), sum.Read)
	}
	return res, nil
}

// writeJSONL writes n benchmark tasks as JSON Lines.
func writeJSONL(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		fmt.Fprintf(bw, `{"pool_id":"1","input_values":{"image":%q}}`+"\n", imageURL(i))
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// runFakeSync is the fake's ceiling for synchronous batches: one connection
// POSTing pre-encoded 5,000-task bodies and reading each answer in full;
// nothing is encoded or decoded in the timed loop.
func runFakeSync(ctx context.Context, w *workload) (childResult, error) {
	body := preEncoded(min(w.tasks, toloka.MaxSyncBatch), false)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	var res childResult
	if err := w.begin(); err != nil {
		return res, err
	}
	for sent := 0; sent < w.tasks; sent += toloka.MaxSyncBatch {
		n := min(toloka.MaxSyncBatch, w.tasks-sent)
		b := body
		if n < toloka.MaxSyncBatch {
			b = preEncoded(n, false)
		}
		status, err := rawPost(ctx, hc, w.url+"/tasks?async_mode=false&allow_defaults=true&skip_invalid_items=true", b)
		if err != nil {
			return res, err
		}
		if status != http.StatusCreated {
			return res, fmt.Errorf("POST /tasks: status %d", status)
		}
		res.Created += int64(n)
	}
	w.end(&res)
	res.Tasks = int64(w.tasks)
	return res, nil
}

// runFakeAsync is the fake's ceiling for the uploader's traffic: 4 workers
// each POSTing a pre-encoded 5,000-task async batch (with __item_idx
// markers and an operation_id) and reading its operation log in full.
func runFakeAsync(ctx context.Context, w *workload) (childResult, error) {
	const batch = toloka.DefaultUploadBatchSize
	body := preEncoded(min(w.tasks, batch), true)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: toloka.DefaultUploadConcurrency}}
	var (
		res     childResult
		next    atomic.Int64
		created atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	if err := w.begin(); err != nil {
		return res, err
	}
	for range toloka.DefaultUploadConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := int(next.Add(batch)) - batch
				if start >= w.tasks {
					return
				}
				n := min(batch, w.tasks-start)
				b := body
				if n < batch {
					b = preEncoded(n, true)
				}
				id := uuid.NewString()
				status, err := rawPost(ctx, hc, w.url+"/tasks?async_mode=true&allow_defaults=true&skip_invalid_items=true&operation_id="+id, b)
				if err == nil && status != http.StatusCreated && status != http.StatusAccepted {
					err = fmt.Errorf("POST /tasks: status %d", status)
				}
				if err == nil {
					err = rawGet(ctx, hc, w.url+"/operations/"+id+"/log")
				}
				if err != nil {
					errOnce.Do(func() { first = err })
					return
				}
				created.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	w.end(&res)
	res.Tasks, res.Created = int64(w.tasks), created.Load()
	return res, first
}

// preEncoded is a batch body of n benchmark tasks, with markers when marked.
func preEncoded(n int, marked bool) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if marked {
			fmt.Fprintf(&b, `{"__item_idx":"%d","pool_id":"1","input_values":{"image":%q}}`, i, imageURL(i))
		} else {
			fmt.Fprintf(&b, `{"pool_id":"1","input_values":{"image":%q}}`, imageURL(i))
		}
	}
	b.WriteByte(']')
	return b.Bytes()
}

func rawPost(ctx context.Context, hc *http.Client, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "ApiKey "+credential)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

func rawGet(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "ApiKey "+credential)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}

// scaledClock runs scale times faster than real time from its start: the
// uploader's pacer sees a minute pass in 60/scale seconds, as the fake does
// with -clock-scale.
type scaledClock struct {
	start time.Time
	scale float64
}

func (c scaledClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.start)) * c.scale))
}

func (c scaledClock) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Duration(float64(t.Sub(c.Now())) / c.scale)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// paceResult is what the pacing workload saw on the wire, in clock time.
type paceResult struct {
	Quota int
	Scale float64
	// Accepted batches (201) and the 429 answers the upload met.
	Batches, TooMany int
	// Windows are the bursts the pacer released: each starts when its first
	// batch was sent, Items counts the tasks of its batches.
	Windows []paceWindow
	// Steady is the rate between the first and the last window's start:
	// the items of all windows but the last over that span, per minute.
	Steady float64
	// Overall is all items over the whole upload's clock time, per minute.
	Overall float64
	// MaxPerMinute is the most items sent in any 60-second span.
	MaxPerMinute int64
	// Duration is the upload's clock time.
	Duration time.Duration
}

type paceWindow struct {
	Start time.Duration // since the upload started
	Items int64
}

// sendLog records, on the pacing clock, each async create the fake accepted.
type sendLog struct {
	next  http.RoundTripper
	clock scaledClock

	mu      sync.Mutex
	sends   []send
	tooMany int
}

type send struct {
	at    time.Time
	items int64
}

func (l *sendLog) RoundTrip(req *http.Request) (*http.Response, error) {
	isCreate := req.Method == http.MethodPost && req.URL.Query().Get("async_mode") == "true"
	var items int64
	if isCreate && req.GetBody != nil {
		if body, err := req.GetBody(); err == nil {
			items = countMarkers(body)
		}
	}
	at := l.clock.Now()
	resp, err := l.next.RoundTrip(req)
	if err != nil || !isCreate {
		return resp, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch resp.StatusCode {
	case http.StatusCreated, http.StatusAccepted:
		l.sends = append(l.sends, send{at: at, items: items})
	case http.StatusTooManyRequests:
		l.tooMany++
	}
	return resp, nil
}

// countMarkers counts the items of a batch body by their markers, reading
// it in small chunks rather than holding a copy.
func countMarkers(r io.Reader) int64 {
	marker := []byte(`"` + toloka.ItemIndexKey + `":`)
	buf := make([]byte, 32<<10)
	var n int64
	keep := 0 // bytes carried over, shorter than a marker
	for {
		m, err := r.Read(buf[keep:])
		data := buf[:keep+m]
		n += int64(bytes.Count(data, marker))
		keep = min(len(marker)-1, len(data))
		copy(buf, data[len(data)-keep:])
		if err != nil {
			return n
		}
	}
}

// runPace uploads w.tasks at a quota of w.quota tasks per minute, the fake
// enforcing the same quota on a clock w.scale times faster than real time,
// and the uploader pacing on such a clock.
func runPace(ctx context.Context, w *workload) (childResult, error) {
	clk := scaledClock{start: time.Now(), scale: w.scale}
	log := &sendLog{next: http.DefaultTransport, clock: clk}
	c, err := toloka.NewClient(toloka.WithBaseURL(w.url), toloka.WithAPIKey(credential), toloka.WithTransport(log))
	if err != nil {
		return childResult{}, err
	}
	tasks := make([]toloka.Task, w.tasks)
	for i := range tasks {
		tasks[i] = toloka.Task{PoolID: "1", InputValues: toloka.Values{"image": imageURL(i)}}
	}
	start := clk.Now()
	res, err := upload(ctx, w, c, toloka.TasksFromSlice(tasks),
		toloka.WithItemQuota(int64(w.quota), 0), toloka.WithUploadClock(clk))
	if err != nil {
		return res, err
	}
	p := &paceResult{Quota: w.quota, Scale: w.scale, Duration: clk.Now().Sub(start)}
	log.mu.Lock()
	sends := slices.Clone(log.sends)
	p.TooMany = log.tooMany
	log.mu.Unlock()
	p.Batches = len(sends)
	analysePace(p, start, sends)
	res.Pace = p
	return res, nil
}

// analysePace groups sends into the pacer's windows — a gap of over a
// quarter minute starts a new one — and derives the rates.
func analysePace(p *paceResult, start time.Time, sends []send) {
	sort.Slice(sends, func(i, j int) bool { return sends[i].at.Before(sends[j].at) })
	var total int64
	for i, s := range sends {
		total += s.items
		if i == 0 || s.at.Sub(sends[i-1].at) > 15*time.Second {
			p.Windows = append(p.Windows, paceWindow{Start: s.at.Sub(start)})
		}
		p.Windows[len(p.Windows)-1].Items += s.items
		var inMinute int64
		for j := i; j < len(sends) && sends[j].at.Sub(s.at) < time.Minute; j++ {
			inMinute += sends[j].items
		}
		p.MaxPerMinute = max(p.MaxPerMinute, inMinute)
	}
	if p.Duration > 0 {
		p.Overall = float64(total) / p.Duration.Minutes()
	}
	if k := len(p.Windows); k >= 2 {
		var items int64
		for _, win := range p.Windows[:k-1] {
			items += win.Items
		}
		p.Steady = float64(items) / (p.Windows[k-1].Start - p.Windows[0].Start).Minutes()
	}
}

// parseResult finds the result line in a child's output.
func parseResult(out []byte) (childResult, error) {
	var res childResult
	for line := range bytes.Lines(out) {
		if rest, ok := bytes.CutPrefix(line, []byte(resultPrefix)); ok {
			err := json.Unmarshal(rest, &res)
			return res, err
		}
	}
	return res, errors.New("the workload printed no result line")
}

// itoa formats with thousands separators.
func itoa(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}
