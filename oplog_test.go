package toloka

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// documentedLog is the example of toloka-api.md §10.5 (no markers: it was
// not uploaded by this SDK).
const documentedLog = `[
  { "type": "TASK_CREATE", "success": true,
    "input":  { "pool_id": "21", "input_values": { "image": "http://images.com/1.png" } },
    "output": { "task_id": "00014495f0--60213f7c25a8b84e2ffb7a2c" } },
  { "type": "TASK_VALIDATE", "success": false,
    "input":  { "pool_id": "22", "input_values": { "imagis": "http://images.com/3.png" } },
    "output": { "input_values.image":  { "code": "VALUE_REQUIRED", "message": "Value must be present and not equal to null" },
                "input_values.imagis": { "code": "VALUE_NOT_ALLOWED", "message": "Unknown field name" } } },
  { "type": "POOL_OPEN", "success": false,
    "input":  { "pool_id": 22 },
    "output": { "code": "EMPTY_POOL", "message": "Pool contains no tasks. Operation is not allowed",
                "request_id": "ao_c8e4cb72-8d4b-4894-bc6e-65a403e6337e" } }
]`

func serveLog(mt *httpmock.MockTransport, status int, body string) {
	mt.RegisterResponder(http.MethodGet, ProductionURL+"/operations/"+waitOpID+"/log", httpmock.NewStringResponder(status, body))
}

func collectLog(t *testing.T, c *Client) ([]OperationLogEntry, error) {
	t.Helper()
	var entries []OperationLogEntry
	for e, err := range c.OperationLog(context.Background(), waitOpID) {
		if err != nil {
			return entries, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func TestOperationLogDocumentedExample(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	serveLog(mt, 200, documentedLog)
	entries, err := collectLog(t, c)
	require.NoError(t, err)
	require.Len(t, entries, 3)

	assert.Equal(t, LogTaskCreate, entries[0].Type)
	assert.Equal(t, "00014495f0--60213f7c25a8b84e2ffb7a2c", entries[0].CreatedID())
	_, ok := entries[0].ItemIndex()
	assert.False(t, ok, "no marker")
	assert.Nil(t, entries[0].FieldErrors())

	errs := entries[1].FieldErrors()
	require.Len(t, errs, 2)
	assert.Equal(t, FieldError{Index: -1, Field: "input_values.image", Code: "VALUE_REQUIRED", Message: "Value must be present and not equal to null", Collection: "tasks"}, errs[0])
	assert.Equal(t, "VALUE_NOT_ALLOWED", errs[1].Code)
	assert.Empty(t, entries[1].CreatedID())

	pool := entries[2].FieldErrors()
	require.Len(t, pool, 1)
	assert.Equal(t, FieldError{Index: -1, Code: "EMPTY_POOL", Message: "Pool contains no tasks. Operation is not allowed"}, pool[0])
	assert.JSONEq(t, `{"pool_id": 22}`, string(entries[2].Input))
}

func TestOperationLogBodies(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		body    string
		entries int
		err     string
	}{
		"empty array":              {body: ` [ ] `},
		"null":                     {body: "null"},
		"single object (OAS form)": {body: `{"type":"TASK_CREATE","success":true,"output":{"task_id":"t"}}`, entries: 1},
		"empty body":               {body: "", err: "empty body"},
		"not an array":             {body: `"log"`, err: `log body starts with '"'`},
		"truncated":                {body: `[{"type":"TASK_CREATE","success":true},{"type":"TASK_`, entries: 1, err: "decoding log entry 1"},
		"unclosed":                 {body: `[{"type":"TASK_CREATE","success":true}`, entries: 1, err: "log array not closed"},
		"wrong field type":         {body: `[{"type":1}]`, err: "decoding log entry 0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			serveLog(mt, 200, tc.body)
			entries, err := collectLog(t, c)
			assert.Len(t, entries, tc.entries)
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.err)
			assert.ErrorContains(t, err, "GET /operations/"+waitOpID+"/log")
		})
	}
}

func TestOperationLogAPIErrors(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	serveLog(mt, 404, `{"code":"DOES_NOT_EXIST","message":"There are no results for such parameters"}`)
	entries, err := collectLog(t, c)
	assert.Empty(t, entries)
	assert.ErrorIs(t, err, ErrNotFound)

	_, err = c.ReadUploadResults(context.Background(), waitOpID, 1)
	assert.ErrorIs(t, err, ErrNotFound)

	var got error
	for _, err := range c.OperationLog(context.Background(), "..") {
		got = err
	}
	assert.ErrorContains(t, got, "not a valid operation id")
}

func TestOperationLogStopsWhenTheLoopBreaks(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	serveLog(mt, 200, documentedLog)
	n := 0
	for _, err := range c.OperationLog(context.Background(), waitOpID) {
		require.NoError(t, err)
		n++
		if n == 2 {
			break
		}
	}
	assert.Equal(t, 2, n)

	// Cancelling the context after breaking must not yield again (which would panic).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range c.OperationLog(ctx, waitOpID) {
		cancel()
		break
	}
}

// countingReader counts the bytes handed out.
type countingReader struct {
	r    io.Reader
	read atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error { return nil }

// makeLog builds a log of n created tasks shaped like Toloka's, each with its
// marker, in reverse order.
func makeLog(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, `{"type":"TASK_CREATE","success":true,"input":{"__item_idx":"%d","pool_id":"21","input_values":{"image":"https://example.com/img/%07d.png"},"overlap":3,"infinite_overlap":false},"output":{"task_id":"000012bb84--62d80429f20bf2%010d"}}`, i, i, i)
		if i > 0 {
			b.WriteByte(',')
		}
	}
	b.WriteByte(']')
	return b.Bytes()
}

func TestOperationLogIsStreamed(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	log := makeLog(20000)
	body := &countingReader{r: bytes.NewReader(log)}
	mt.RegisterResponder(http.MethodGet, ProductionURL+"/operations/"+waitOpID+"/log", func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: body, Header: http.Header{}}, nil
	})
	n := 0
	for e, err := range c.OperationLog(context.Background(), waitOpID) {
		require.NoError(t, err)
		if n == 0 {
			assert.Less(t, body.read.Load(), int64(len(log)/100), "the first entry arrives before the body is read")
			index, ok := e.ItemIndex()
			assert.True(t, ok)
			assert.Equal(t, 19999, index)
		}
		n++
	}
	assert.Equal(t, 20000, n)
	assert.Equal(t, int64(len(log)), body.read.Load())
}

func TestReadUploadResultsPlacesEveryEntry(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	serveLog(mt, 200, `[
	  {"type":"TASK_CREATE","success":true,"input":{"__item_idx":"0","pool_id":"21","input_values":{"__item_idx":"7"}},"output":{"task_id":"t0"}},
	  {"type":"TASK_CREATE","success":true,"input":{"__item_idx":1,"pool_id":"21"},"output":{"task_id":"t1"}},
	  {"type":"TASK_VALIDATE","success":false,"input":{"pool_id":"21","__item_idx":"2"},"output":{"overlap":{"code":"VALUE_LESS_THAN_MIN","message":"too small","params":[1]}}},
	  {"type":"TASK_VALIDATE","success":false,"input":{"__item_idx":"3"},"output":{"code":"VALIDATION_ERROR","message":"Validation failed","payload":{"input_values.x":{"code":"VALUE_REQUIRED","message":"missing"}}}},
	  {"type":"TASK_CREATE","success":false,"input":{"__item_idx":"4"},"output":{"code":"INTERNAL_ERROR","message":"oops"}},
	  {"type":"TASK_VALIDATE","success":false,"input":{"__item_idx":"5"},"output":"weird"},
	  {"type":"TASK_VALIDATE","success":true,"input":{"__item_idx":"6"},"output":{}},
	  {"type":"TASK_CREATE","success":true,"input":{"__item_idx":"6"},"output":{"task_id":"t6"}},
	  {"type":"TASK_CREATE","success":true,"input":{"__item_idx":"6"},"output":{"task_id":"t6"}},
	  {"type":"TASK_CREATE","success":true,"input":{"__item_idx":"6"},"output":{"task_id":"t6-again"}},
	  {"type":"TASK_CREATE","success":true,"input":{"pool_id":"21"},"output":{"task_id":"t?"}},
	  {"type":"TASK_CREATE","success":true,"input":{"__item_idx":"8"},"output":{"task_id":"t8"}},
	  {"type":"TASK_CREATE","success":true,"input":{"__item_idx":"-1"},"output":{"task_id":"tm"}},
	  {"type":"TASK_CREATE","success":true,"input":{"__item_idx":"one"},"output":{"task_id":"tx"}},
	  {"type":"POOL_OPEN","success":false,"input":{"pool_id":22},"output":{"code":"EMPTY_POOL","message":"Pool contains no tasks"}},
	  {"type":"SOMETHING_NEW","success":true,"input":{"pool_id":"21"}},
	  {"type":"SOMETHING_NEW","success":true,"input":{"__item_idx":"7"},"output":{"task_id":"t7"}}
	]`)
	res, err := c.ReadUploadResults(context.Background(), waitOpID, 8)
	require.NoError(t, err)

	assert.Equal(t, map[int]string{0: "t0", 1: "t1", 6: "t6", 7: "t7"}, res.Created,
		"a nested __item_idx inside input_values is not the marker; numbers are accepted; an unknown item step with a marker is placed")
	assert.Equal(t, []int{2, 3, 4, 5}, sortedKeys(res.ValidationErrors))
	assert.Equal(t, []FieldError{{Index: 2, Field: "overlap", Code: "VALUE_LESS_THAN_MIN", Message: "too small", Params: []any{float64(1)}, Collection: "tasks"}}, res.ValidationErrors[2])
	assert.Equal(t, "tasks[3].input_values.x: VALUE_REQUIRED: missing", res.ValidationErrors[3][0].Error())
	assert.Equal(t, "tasks[4]: INTERNAL_ERROR: oops", res.ValidationErrors[4][0].Error())
	assert.Equal(t, CodeLogOutputUnreadable, res.ValidationErrors[5][0].Code)
	assert.Contains(t, res.ValidationErrors[5][0].Message, `"weird"`)

	var reasons []string
	for _, u := range res.Unmatched {
		reasons = append(reasons, u.Reason)
	}
	assert.Equal(t, []string{
		"item 6 was already reported created as t6",
		"the input has no __item_idx marker",
		"the __item_idx marker \"8\" is not an index of the request (0..7)",
		"the __item_idx marker \"-1\" is not an index of the request (0..7)",
		"the __item_idx marker \"one\" is not an index of the request (0..7)",
	}, reasons)
	assert.Equal(t, "t?", (&res.Unmatched[1].OperationLogEntry).CreatedID(), "unmatched entries keep their content")

	var other []string
	for _, e := range res.Other {
		other = append(other, e.Type)
	}
	assert.Equal(t, []string{LogTaskValidate, LogPoolOpen, "SOMETHING_NEW"}, other)
	assert.JSONEq(t, `{"pool_id":22}`, string(res.Other[1].Input), "kept entries are copies, not the reused buffer")
	assert.Empty(t, res.MissingIndexes(8))
	assert.Equal(t, []int{8, 9}, res.MissingIndexes(10))
}

func TestReadUploadResultsWithUnknownCount(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	serveLog(mt, 200, `[{"type":"TASK_SUITE_CREATE","success":true,"input":{"__item_idx":"12345"},"output":{"task_suite_id":"s"}},
	  {"type":"TASK_SUITE_VALIDATE","success":false,"input":{"__item_idx":"x"},"output":{"tasks.0.input_values.a":{"code":"VALUE_REQUIRED","message":"m"}}}]`)
	res, err := c.ReadUploadResults(context.Background(), waitOpID, 0)
	require.NoError(t, err)
	assert.Equal(t, map[int]string{12345: "s"}, res.Created)
	require.Len(t, res.Unmatched, 1)
	assert.Equal(t, `the __item_idx marker "x" is not a request index`, res.Unmatched[0].Reason)
	errs := res.Unmatched[0].FieldErrors()
	require.Len(t, errs, 1)
	assert.Equal(t, "tasks[0].input_values.a: VALUE_REQUIRED: m", errs[0].Error(), "no index: the path has none")
	assert.Equal(t, collectionTaskSuites, errs[0].Collection)
}

func TestParseIndex(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]int{`"0"`: 0, `"42"`: 42, `7`: 7, `"999999999"`: 999999999} {
		got, ok := parseIndex(json.RawMessage(raw))
		assert.True(t, ok, raw)
		assert.Equal(t, want, got, raw)
	}
	for _, raw := range []string{`""`, `"1000000000"`, `-1`, `1.5`, `"1e3"`, `null`, `true`, `"`, `" 1"`} {
		_, ok := parseIndex(json.RawMessage(raw))
		assert.False(t, ok, raw)
	}
}

// TestReadUploadResultsAllocations pins the bounded cost of a long log: the
// reused decode path allocates a handful of small objects per entry, and
// nothing proportional to the whole body.
//
// Not parallel: testing.AllocsPerRun refuses to run in a parallel test.
func TestReadUploadResultsAllocations(t *testing.T) {
	const n = 2000
	log := makeLog(n)
	allocs := testing.AllocsPerRun(3, func() {
		res := &UploadResults{Created: make(map[int]string, n), ValidationErrors: map[int][]FieldError{}}
		err := decodeLog(bytes.NewReader(log), true, func(e *OperationLogEntry) error {
			res.add(e, n)
			return nil
		})
		if err != nil || len(res.Created) != n {
			panic(fmt.Sprint(err, len(res.Created)))
		}
	})
	t.Logf("%.2f allocations per entry", allocs/n)
	assert.LessOrEqual(t, allocs/n, 4.0, "allocations per entry")
}

// logBenchClient serves an n-entry log to a client from memory, so the
// benchmarks measure the reader, not the transport.
func logBenchClient(b *testing.B, n int) ([]byte, *Client) {
	b.Helper()
	log := makeLog(n)
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodGet, ProductionURL+"/operations/"+waitOpID+"/log", func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(log)), Header: http.Header{}}, nil
	})
	c, err := NewClient(WithAPIKey(testKey), WithTransport(mt))
	require.NoError(b, err)
	b.SetBytes(int64(len(log)))
	return log, c
}

// BenchmarkReadUploadResults100k reads a 100,000-entry (23 MiB) log
// through the client (httpmock transport) and maps it by index; it reports
// bytes allocated per log entry and the heap the results keep.
func BenchmarkReadUploadResults100k(b *testing.B) {
	const n = 100000
	log, c := logBenchClient(b, n)
	b.ReportAllocs()
	var base, before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	before = base
	var (
		res *UploadResults
		err error
	)
	for b.Loop() {
		res, err = c.ReadUploadResults(context.Background(), waitOpID, n)
		if err != nil || len(res.Created) != n {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/n, "B/entry")
	runtime.GC()
	runtime.ReadMemStats(&after)
	// What the results of 100,000 items keep once the log is read.
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(base.HeapAlloc))/(1<<20), "MiB-kept")
	runtime.KeepAlive(res)
	runtime.KeepAlive(log)
	runtime.KeepAlive(c)
}

// BenchmarkOperationLog100k ranges over a 100,000-entry log with the public
// iterator, which hands out entries the caller may keep.
func BenchmarkOperationLog100k(b *testing.B) {
	const n = 100000
	_, c := logBenchClient(b, n)
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		count := 0
		for e, err := range c.OperationLog(context.Background(), waitOpID) {
			if err != nil || !strings.HasPrefix(e.Type, "TASK_") {
				b.Fatal(err)
			}
			count++
		}
		if count != n {
			b.Fatal(count)
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/n, "B/entry")
}

func TestTopLevelValue(t *testing.T) {
	t.Parallel()
	cases := []struct {
		obj, key, want string
		ok             bool
	}{
		{`{"__item_idx":"3"}`, ItemIndexKey, `"3"`, true},
		{` { "a" : {"__item_idx":"9","s":"}]\"{"} , "__item_idx" : 12 } `, ItemIndexKey, `12`, true},
		{`{"a":[1,{"__item_idx":"9"},"]"],"b":"x\\\"","__item_idx":"4"}`, ItemIndexKey, `"4"`, true},
		{`{"a":{"__item_idx":"9"}}`, ItemIndexKey, ``, false},
		{`{"s":"\"__item_idx\":\"1\""}`, ItemIndexKey, ``, false},
		{`{"task_id":"t-1","x":null}`, "task_id", `"t-1"`, true},
		{`{"x":true,"task_id":null}`, "task_id", `null`, true},
		{`{}`, "task_id", ``, false},
		{`[]`, "task_id", ``, false},
		{``, "task_id", ``, false},
		{`{"task_id"`, "task_id", ``, false},
		{`{"task_id":"open`, "task_id", ``, false},
		{`{"a":[1,2`, "task_id", ``, false},
		{`{"a" 1}`, "a", ``, false},
		{`{"a":1 "b":2}`, "b", ``, false},
	}
	for _, tc := range cases {
		got, ok := topLevelValue([]byte(tc.obj), tc.key)
		assert.Equal(t, tc.ok, ok, tc.obj)
		assert.Equal(t, tc.want, string(got), tc.obj)
	}
	e := OperationLogEntry{Success: true, Output: json.RawMessage(`{"task_id":"a\u002fb"}`)}
	assert.Equal(t, "a/b", e.CreatedID(), "escaped ids are unquoted")
	e.Output = json.RawMessage(`{"task_id":12}`)
	assert.Empty(t, e.CreatedID())
}

// A broken or hostile server cannot make the log reader hold unbounded
// memory: oversized entries are refused, and what is kept whole is capped
// and counted.
func TestOperationLogBounds(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	huge := `[{"type":"TASK_CREATE","success":true,"input":{"x":"` + strings.Repeat("a", maxLogEntryBytes) + `"}}]`
	mt.RegisterResponder(http.MethodGet, ProductionURL+"/operations/huge/log", httpmock.NewStringResponder(200, huge))
	_, err := c.ReadUploadResults(context.Background(), "huge", 1)
	require.ErrorContains(t, err, "larger than")

	// Thousands of 16 KiB entries about no item, and of errors for one item.
	var b strings.Builder
	b.WriteString("[")
	big := strings.Repeat("b", 16<<10)
	for i := range 3000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"type":"POOL_OPEN","success":false,"input":{"pool_id":"%s"},"output":{"code":"EMPTY_POOL","message":"m"}}`, big)
	}
	for range 300 {
		b.WriteString(`,{"type":"TASK_VALIDATE","success":false,"input":{"__item_idx":"0"},"output":{"input_values.a":{"code":"VALUE_REQUIRED","message":"m"}}}`)
	}
	b.WriteString(`,{"type":"TASK_CREATE","success":true,"input":{"__item_idx":"999999999"},"output":{"task_id":"t"}}`)
	b.WriteString("]")
	mt.RegisterResponder(http.MethodGet, ProductionURL+"/operations/many/log", httpmock.NewStringResponder(200, b.String()))
	res, err := c.ReadUploadResults(context.Background(), "many", 0)
	require.NoError(t, err)
	kept := 0
	for _, e := range res.Other {
		kept += len(e.Input) + len(e.Output)
	}
	assert.LessOrEqual(t, kept, maxKeptLogBytes)
	assert.Len(t, res.ValidationErrors[0], maxFieldErrorsPerIndex)
	assert.Empty(t, res.Created, "an index beyond any upload is not placed")
	assert.Equal(t, 3000+300+1, len(res.Other)+len(res.Unmatched)+res.Omitted+len(res.ValidationErrors[0]), "every entry is kept or counted")
}
