package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gotoloka/toloka"
)

// cannedToloka answers the requests of the two clients from bodies made
// before the timer starts, so BenchmarkClientCPU times the clients alone:
// no server, no loopback. Answers are shaped like tolokafake's.
type cannedToloka struct {
	syncAnswers map[int][]byte // first index of a batch → 201 body
	logs        map[int][]byte // first index of a batch → operation log
	mu          sync.Mutex
	ops         map[string]int // operation id → first index
	syncSeen    int
}

const (
	cannedPool    = `{"id":"1","project_id":"1","status":"OPEN","mixer_config":{"real_tasks_count":5,"golden_tasks_count":1,"training_tasks_count":0},"defaults":{"default_overlap_for_new_tasks":3,"default_overlap_for_new_task_suites":3}}`
	cannedProject = `{"id":"1","status":"ACTIVE","task_spec":{"input_spec":{"image":{"type":"url","required":true}},"output_spec":{"result":{"type":"string","required":true}}}}`
)

func newCannedToloka(n, batch int) *cannedToloka {
	c := &cannedToloka{syncAnswers: map[int][]byte{}, logs: map[int][]byte{}, ops: map[string]int{}}
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		var sync, log bytes.Buffer
		sync.WriteString(`{"items":{`)
		log.WriteByte('[')
		for i := start; i < end; i++ {
			task := fmt.Sprintf(`"pool_id":"1","input_values":{"image":%q},"overlap":3,"infinite_overlap":false`, imageURL(i))
			id := fmt.Sprintf("0000000001--%024x", i)
			if i > start {
				sync.WriteByte(',')
				log.WriteByte(',')
			}
			fmt.Fprintf(&sync, `"%d":{"id":%q,%s,"created":"2024-05-01T12:00:00.000"}`, i-start, id, task)
			fmt.Fprintf(&log, `{"type":"TASK_CREATE","success":true,"input":{"__item_idx":"%d",%s},"output":{"task_id":%q}}`, i, task, id)
		}
		sync.WriteString(`},"validation_errors":{}}`)
		log.WriteByte(']')
		c.syncAnswers[start], c.logs[start] = sync.Bytes(), log.Bytes()
	}
	return c
}

func (c *cannedToloka) RoundTrip(req *http.Request) (*http.Response, error) {
	path := strings.TrimPrefix(req.URL.Path, "/api/v1")
	q := req.URL.Query()
	answer := func(status int, body []byte) (*http.Response, error) {
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
	}
	switch {
	case path == "/pools/1":
		return answer(200, []byte(cannedPool))
	case path == "/projects/1":
		return answer(200, []byte(cannedProject))
	case path == "/tasks" && q.Get("async_mode") == "false":
		_, _ = io.Copy(io.Discard, req.Body)
		c.mu.Lock()
		start := c.syncSeen
		c.syncSeen += baselineBatch
		c.mu.Unlock()
		return answer(201, c.syncAnswers[start])
	case path == "/tasks":
		// The batch's first index is its first marker: {"__item_idx":"N",...
		head := make([]byte, 32)
		n, _ := io.ReadFull(req.Body, head)
		_, _ = io.Copy(io.Discard, req.Body)
		digits, _, _ := strings.Cut(strings.TrimPrefix(string(head[:n]), `[{"`+toloka.ItemIndexKey+`":"`), `"`)
		start, err := strconv.Atoi(digits)
		if err != nil {
			return answer(400, []byte(`{"code":"BAD","message":"no marker"}`))
		}
		id := q.Get("operation_id")
		c.mu.Lock()
		c.ops[id] = start
		c.mu.Unlock()
		op, _ := json.Marshal(toloka.Operation{ID: id, Type: "TASK.BATCH_CREATE", Status: toloka.OperationSuccess})
		return answer(201, op)
	case strings.HasPrefix(path, "/operations/") && strings.HasSuffix(path, "/log"):
		c.mu.Lock()
		start, ok := c.ops[strings.TrimSuffix(strings.TrimPrefix(path, "/operations/"), "/log")]
		c.mu.Unlock()
		if !ok {
			return answer(404, []byte(`{"code":"DOES_NOT_EXIST","message":"no such operation"}`))
		}
		return answer(200, c.logs[start])
	}
	return answer(404, []byte(`{"code":"DOES_NOT_EXIST","message":"unknown path"}`))
}

// BenchmarkClientCPU100k compares the client CPU (process user+system
// time, all threads, GC included) of the minimal baseline client and of
// UploadTasks for 100,000 tasks, each against canned answers in process, so
// neither a server nor loopback is in the figure. It complements the bench
// command, which measures the same two clients against tolokafake:
//
//	go test ./cmd/tolokabench -run '^$' -bench ClientCPU -benchtime 5x -count 3
func BenchmarkClientCPU100k(b *testing.B) {
	const n = 100_000
	canned := newCannedToloka(n, baselineBatch)
	b.Run("baseline", func(b *testing.B) {
		hc := &http.Client{Transport: canned}
		tasks := make([]baselineTask, n)
		for i := range tasks {
			tasks[i] = baselineTask{PoolID: "1", InputValues: map[string]any{"image": imageURL(i)}}
		}
		cpu := selfCPU()
		for b.Loop() {
			canned.mu.Lock()
			canned.syncSeen = 0
			canned.mu.Unlock()
			created := 0
			for start := 0; start < n; start += baselineBatch {
				ans, err := baselinePost(context.Background(), hc, "http://127.0.0.1/api/v1/tasks?async_mode=false&allow_defaults=true&skip_invalid_items=true", tasks[start:start+baselineBatch])
				if err != nil {
					b.Fatal(err)
				}
				created += len(ans.Items)
			}
			if created != n {
				b.Fatalf("created %d", created)
			}
		}
		b.ReportMetric(float64(selfCPU()-cpu)/float64(b.N)/n, "cpu-ns/task")
	})
	b.Run("upload", func(b *testing.B) {
		c, err := toloka.NewClient(toloka.WithBaseURL("http://127.0.0.1/api/v1"), toloka.WithAPIKey(credential), toloka.WithTransport(canned))
		if err != nil {
			b.Fatal(err)
		}
		tasks := make([]toloka.Task, n)
		for i := range tasks {
			tasks[i] = toloka.Task{PoolID: "1", InputValues: toloka.Values{"image": imageURL(i)}}
		}
		cpu := selfCPU()
		for b.Loop() {
			sum, err := c.UploadTasks(context.Background(), toloka.TasksFromSlice(tasks),
				toloka.WithCallOptions(toloka.CreateOptions{AllowDefaults: true}))
			if err != nil || sum.Created != n {
				b.Fatalf("created %d: %v", sum.Created, err)
			}
		}
		b.ReportMetric(float64(selfCPU()-cpu)/float64(b.N)/n, "cpu-ns/task")
	})
}
