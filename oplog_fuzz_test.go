package toloka

// Fuzz target for the operation-log decoder (GET /operations/{id}/log,
// toloka-api.md §6.2): the streaming decoder in both of its modes, the
// per-entry readers, the placement of entries by index, and the same body
// read through the client with OperationLog and ReadUploadResults. `go test`
// runs the seeds; to fuzz for longer:
//
//	go test -run '^$' -fuzz '^FuzzOperationLog$' -fuzztime 5m .
//
// A failing input is saved under testdata/fuzz/FuzzOperationLog/ and then
// runs as a seed with every `go test`.

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/jarcoal/httpmock"
)

// oplogSeeds are log bodies: the example of toloka-api.md §10.5, logs as this
// SDK's uploads produce them (with "__item_idx" markers), and the shapes the
// decoder is documented to accept or refuse.
var oplogSeeds = []string{
	documentedLog,
	`[{"type":"TASK_CREATE","success":true,"input":{"__item_idx":"0","pool_id":"21","input_values":{"image":"http://images.com/1.png"}},"output":{"task_id":"00014495f0--60213f7c25a8b84e2ffb7a2c"}},` +
		`{"type":"TASK_VALIDATE","success":false,"input":{"__item_idx":"1","pool_id":"21","input_values":{"imagis":"x"}},"output":{"input_values.image":{"code":"VALUE_REQUIRED","message":"Value must be present and not equal to null"},"input_values.imagis":{"code":"VALUE_NOT_ALLOWED","message":"Unknown field name","params":["imagis"]}}},` +
		`{"type":"POOL_OPEN","success":true,"input":{"pool_id":"21"},"output":{"pool_id":"21"}}]`,
	`[{"type":"TASK_SUITE_CREATE","success":true,"input":{"__item_idx":"2","pool_id":"22","tasks":[{"input_values":{"__item_idx":"9"}}]},"output":{"task_suite_id":"0000000016--1000000000000000000000001"}},` +
		`{"type":"TASK_SUITE_VALIDATE","success":false,"input":{"__item_idx":2},"output":{"code":"VALIDATION_ERROR","message":"Validation failed","payload":{"overlap":{"code":"VALUE_REQUIRED","message":"m"}}}}]`,
	`[{"type":"TASK_VALIDATE","success":false,"input":{"__item_idx":"0"},"output":{"code":"INTERNAL_ERROR","message":"Internal Error"}},` +
		`{"type":"TASK_VALIDATE","success":false,"input":{"__item_idx":"0"},"output":"not a map"},` +
		`{"type":"TASK_CREATE","success":true,"input":{"__item_idx":"0"},"output":{"task_id":"a\"b\u00e9"}},` +
		`{"type":"TASK_CREATE","success":true,"input":{"__item_idx":"0"},"output":{"task_id":"other"}}]`,
	`[{"type":"TASK_CREATE","success":true,"input":{"__item_idx":"-1"},"output":{"task_id":"x"}},` +
		`{"type":"TASK_CREATE","success":true,"input":{"__item_idx":"1234567890"},"output":{"task_id":"y"}},` +
		`{"type":"TASK_CREATE","success":true,"input":{"__item_idx":"007"},"output":{"task_id":"z"}},` +
		`{"type":"TASK_CREATE","success":true,"input":{"input_values":{"__item_idx":"3"}},"output":{"task_id":"w"}},` +
		`{"type":"USER_BONUS_PERSIST","success":true,"input":{},"output":{"user_bonus_id":"b"}},` +
		`{"type":"TASK_CREATE","success":true}]`,
	`[{"type":"TASK_VALIDATE","success":false,"input":{"__item_idx":"0"},"output":{"input_values.x":{}}},` +
		`{"type":"TASK_VALIDATE","success":false,"input":{"__item_idx":"1"},"output":{"code":"VALIDATION_ERROR","message":"m","payload":{"1":{"input_values.x":{}}}}}]`,
	`{"type":"TASK_CREATE","success":true,"input":{"__item_idx":"0"},"output":{"task_id":"single"}}`,
	`[]`,
	` null `,
	`[{"type":"TASK_CREATE","success":true,"input":{"__item_idx":"0"},"output":{"task_id":"cut"}},{"type":"TASK_`,
	`[{"type":"TASK_CREATE"}`,
	`[1, "two", null]`,
	`{"code":"OPERATION_LOGS_ARCHIVED","message":"Logs are archived"}`,
	``,
	`<html><body>502</body></html>`,
}

// decodedEntry is a log entry copied out of the decoder's buffers.
type decodedEntry struct {
	typ           string
	success       bool
	input, output []byte
}

// decodeAll decodes body in one of the two modes, copying every entry.
func decodeAll(body []byte, reuse bool) ([]decodedEntry, error) {
	var out []decodedEntry
	err := decodeLog(bytes.NewReader(body), reuse, func(e *OperationLogEntry) error {
		out = append(out, decodedEntry{e.Type, e.Success, bytes.Clone(e.Input), bytes.Clone(e.Output)})
		return nil
	})
	return out, err
}

func FuzzOperationLog(f *testing.F) {
	for i, body := range oplogSeeds {
		f.Add([]byte(body), uint16(i%4))
	}
	f.Fuzz(func(t *testing.T, body []byte, n uint16) {
		items := int(n % 16) // 0: the count is unknown
		plain, plainErr := decodeAll(body, false)
		reused, reusedErr := decodeAll(body, true)
		// Reusing the entry's buffers must not change what is decoded.
		if (plainErr == nil) != (reusedErr == nil) || len(plain) != len(reused) {
			t.Fatalf("modes disagree: %d entries (err %v) vs %d reusing (err %v)", len(plain), plainErr, len(reused), reusedErr)
		}
		for i := range plain {
			a, b := plain[i], reused[i]
			if a.typ != b.typ || a.success != b.success || !bytes.Equal(a.input, b.input) || !bytes.Equal(a.output, b.output) {
				t.Fatalf("entry %d differs when buffers are reused: %+v vs %+v", i, a, b)
			}
		}

		// Each entry read on its own; then placed, and placed exactly once.
		res := &UploadResults{Created: map[int]string{}, ValidationErrors: map[int][]FieldError{}}
		for i, d := range plain {
			e := OperationLogEntry{Type: d.typ, Success: d.success, Input: d.input, Output: d.output}
			index, hasIndex := e.ItemIndex()
			if hasIndex && index < 0 {
				t.Fatalf("entry %d: negative index %d", i, index)
			}
			if id := e.CreatedID(); id != "" && !e.Success {
				t.Fatalf("entry %d: a failed step created %q", i, id)
			}
			errs := e.FieldErrors()
			if e.Success != (len(errs) == 0) {
				t.Fatalf("entry %d: success %v with %d field errors", i, e.Success, len(errs))
			}
			for _, fe := range errs {
				if want := map[bool]int{true: index, false: -1}[hasIndex]; fe.Index != want {
					t.Fatalf("entry %d: field error index %d, want %d", i, fe.Index, want)
				}
				if fe.Code == "" {
					t.Fatalf("entry %d: field error without a code: %+v", i, fe)
				}
			}
			placed(t, res, &e, items)
		}
		for index, errs := range res.ValidationErrors {
			for _, fe := range errs {
				if fe.Index != index {
					t.Fatalf("errors at %d carry index %d", index, fe.Index)
				}
			}
		}
		missing := res.MissingIndexes(items)
		if !slices.IsSorted(missing) {
			t.Fatalf("missing indexes not sorted: %v", missing)
		}
		for _, index := range missing {
			_, created := res.Created[index]
			_, rejected := res.ValidationErrors[index]
			if created || rejected || index < 0 || index >= items {
				t.Fatalf("index %d reported missing wrongly", index)
			}
		}

		// The client, over HTTP: the same entries, the same results.
		c, mt := newFuzzClient(t)
		mt.RegisterResponder(http.MethodGet, ProductionURL+"/operations/"+waitOpID+"/log", httpmock.NewBytesResponder(http.StatusOK, body))
		var streamed int
		var streamErr error
		for e, err := range c.OperationLog(context.Background(), waitOpID) {
			if streamErr != nil {
				t.Fatal("OperationLog yielded after its error")
			}
			if err != nil {
				streamErr = err
				continue
			}
			if streamed >= len(plain) || e.Type != plain[streamed].typ || !bytes.Equal(e.Input, plain[streamed].input) {
				t.Fatalf("OperationLog entry %d differs from the decoder's", streamed)
			}
			streamed++
		}
		if streamed != len(plain) || (streamErr == nil) != (plainErr == nil) {
			t.Fatalf("OperationLog: %d entries (err %v), decoder %d (err %v)", streamed, streamErr, len(plain), plainErr)
		}
		got, err := c.ReadUploadResults(context.Background(), waitOpID, items)
		if (err == nil) != (plainErr == nil) {
			t.Fatalf("ReadUploadResults err %v, decoder err %v", err, plainErr)
		}
		if err != nil {
			if errors.Is(err, errStopLog) {
				t.Fatalf("the internal stop sentinel escaped: %v", err)
			}
			return
		}
		if len(got.Created) != len(res.Created) || len(got.ValidationErrors) != len(res.ValidationErrors) ||
			len(got.Other) != len(res.Other) || len(got.Unmatched) != len(res.Unmatched) {
			t.Fatalf("ReadUploadResults placed entries differently: %d/%d/%d/%d vs %d/%d/%d/%d",
				len(got.Created), len(got.ValidationErrors), len(got.Other), len(got.Unmatched),
				len(res.Created), len(res.ValidationErrors), len(res.Other), len(res.Unmatched))
		}
		for index, id := range res.Created {
			if got.Created[index] != id {
				t.Fatalf("index %d: ReadUploadResults says %q, the entries %q", index, got.Created[index], id)
			}
		}
		for i := range res.Other {
			if !bytes.Equal(got.Other[i].Input, res.Other[i].Input) || !bytes.Equal(got.Other[i].Output, res.Other[i].Output) {
				t.Fatalf("Other[%d] kept a reused buffer: %s vs %s", i, got.Other[i].Input, res.Other[i].Input)
			}
		}
		for i := range res.Unmatched {
			if !bytes.Equal(got.Unmatched[i].Input, res.Unmatched[i].Input) || got.Unmatched[i].Reason != res.Unmatched[i].Reason {
				t.Fatalf("Unmatched[%d] differs: %+v vs %+v", i, got.Unmatched[i], res.Unmatched[i])
			}
		}
	})
}

// placed adds e to res and checks that it landed in exactly one place, at an
// index of the request.
func placed(t *testing.T, res *UploadResults, e *OperationLogEntry, items int) {
	t.Helper()
	other, unmatched := len(res.Other), len(res.Unmatched)
	index, hasIndex := e.ItemIndex()
	var before int
	if hasIndex {
		before = len(res.ValidationErrors[index])
	}
	res.add(e, items)
	moves := len(res.Other) - other + len(res.Unmatched) - unmatched
	if hasIndex && len(res.ValidationErrors[index]) > before {
		moves++
	}
	if id := e.CreatedID(); hasIndex && id != "" && res.Created[index] == id && moves == 0 {
		moves++
	}
	if moves != 1 {
		t.Fatalf("entry %s (input %s) was placed %d times", e.Type, e.Input, moves)
	}
	for index := range res.Created {
		if index < 0 || (items > 0 && index >= items) {
			t.Fatalf("created index %d outside the request of %d", index, items)
		}
	}
	for index := range res.ValidationErrors {
		if index < 0 || (items > 0 && index >= items) {
			t.Fatalf("rejected index %d outside the request of %d", index, items)
		}
	}
}

// newFuzzClient is newMockClient without retries, for a fuzz iteration.
func newFuzzClient(t *testing.T) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	c, err := NewClient(WithAPIKey(testKey), WithTransport(mt), WithRetryPolicy(RetryPolicy{}), WithoutLookups())
	if err != nil {
		t.Fatal(err)
	}
	return c, mt
}
