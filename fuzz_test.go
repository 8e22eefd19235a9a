package toloka

// Fuzz targets for every decoder that reads what a server sends. `go test`
// runs the seeds (shapes from toloka-api.md §10 and §17); to fuzz one target
// for longer:
//
//	go test -run '^$' -fuzz '^FuzzNewAPIError$' -fuzztime 5m .
//	go test -run '^$' -fuzz '^FuzzDecodeBatchResult$' -fuzztime 5m .
//	go test -run '^$' -fuzz '^FuzzOperation$' -fuzztime 5m .
//	go test -run '^$' -fuzz '^FuzzTimestamp$' -fuzztime 5m .
//	go test -run '^$' -fuzz '^FuzzFieldErrorPayload$' -fuzztime 5m .
//	go test -run '^$' -fuzz '^FuzzRateLimitPayload$' -fuzztime 5m .
//
// A failing input is saved under testdata/fuzz/<target>/ and then runs as a
// seed with every `go test`.

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Bodies of toloka-api.md §10.9, §8.1 and §17.2, plus non-JSON bodies a proxy
// may send.
var errorBodySeeds = []string{
	`{"request_id":"337d68d1-974d-42b1-a2d0-6234f6373eed","code":"INAPPROPRIATE_STATUS","message":"This or related resource is in inappropriate status, operation is not allowed","payload":{"appropriate_statuses":["OPEN","CLOSED"]}}`,
	`{"request_id":"…","code":"VALIDATION_ERROR","message":"Validation failed","payload":{"input_values.image":{"code":"VALUE_REQUIRED","message":"Value must be present and not equal to null"}}}`,
	`{"code":"VALIDATION_ERROR","message":"Validation failed","payload":{"1":{"input_values.image":{"code":"VALUE_REQUIRED","message":"Value must be present and not equal to null"}},"2":{"input_values.imagis":{"code":"VALUE_NOT_ALLOWED","message":"Unknown field name","params":["imagis"]}}}}`,
	`{"code":"ACCESS_DENIED","message":"Access denied"}`,
	`{"code":"DOES_NOT_EXIST","message":"There are no results for such parameters"}`,
	`{"code":"CONFLICT_STATE","message":"Conflict state"}`,
	`{"code":"OPERATION_ALREADY_EXISTS","message":"Operation with provided id already exists","request_id":"…"}`,
	`{"code":"TOO_MANY_REQUESTS","message":"Too many requests"}`,
	`{"request_id":"r","code":"TOO_MANY_REQUESTS","message":"Too many requests","payload":{"interval":"MIN"}}`,
	`{"code":"INTERNAL_ERROR","message":"Internal Error"}`,
	`{"code":"REMOTE_SERVICE_UNAVAILABLE","message":"Service is temporary unavailable"}`,
	`{"code":"X","payload":null}`,
	`<html><body><h1>502 Bad Gateway</h1></body></html>`,
	``,
	"\xff\xfe not utf-8",
}

func FuzzNewAPIError(f *testing.F) {
	statuses := []int{400, 401, 403, 404, 409, 413, 429, 500, 502, 503, 504}
	for i, body := range errorBodySeeds {
		f.Add(statuses[i%len(statuses)], []byte(body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := newAPIError("POST", "/tasks", status, body)
		if e.StatusCode != status || e.Method != "POST" || e.Path != "/tasks" {
			t.Fatalf("request facts lost: %+v", e)
		}
		msg := e.Error()
		if !strings.HasPrefix(msg, "toloka: POST /tasks: ") {
			t.Fatalf("Error() = %q", msg)
		}
		if !utf8.ValidString(e.Body) || len(e.Body) > bodyExcerptLen+len("…") {
			t.Fatalf("body excerpt unbounded or invalid: %d bytes", len(e.Body))
		}
		if e.Code == "" && (e.FieldErrors != nil || e.Payload != nil) {
			t.Fatalf("payload decoded without a code: %+v", e)
		}
		checkFieldErrorsSorted(t, e.FieldErrors)
		for _, s := range []Error{ErrNotFound, ErrAccessDenied, ErrUnauthorized, ErrConflict, ErrValidation, ErrRateLimited, ErrServerUnavailable, ErrTooLarge} {
			_ = errors.Is(e, s)
		}
		if status == http.StatusTooManyRequests || e.Code == CodeTooManyRequests {
			if !errors.Is(e, ErrRateLimited) {
				t.Fatalf("a 429 does not match ErrRateLimited: %v", e)
			}
		}
	})
}

// FuzzRateLimitPayload feeds 429 bodies and Retry-After values to the retry
// loop's judgement, which must never wait longer than the policy allows.
func FuzzRateLimitPayload(f *testing.F) {
	for _, interval := range []string{"MIN", "HOUR", "DAY", "min", "", "WEEK"} {
		f.Add([]byte(`{"code":"TOO_MANY_REQUESTS","message":"Too many requests","payload":{"interval":"`+interval+`"}}`), "")
	}
	f.Add([]byte(`{"code":"TOO_MANY_REQUESTS"}`), "120")
	f.Add([]byte(`{"code":"TOO_MANY_REQUESTS","payload":{"interval":"MIN"}}`), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add([]byte(`{"code":"TOO_MANY_REQUESTS","payload":{"interval":"MIN"}}`), "99999999999999999999")
	f.Fuzz(func(t *testing.T, body []byte, retryAfter string) {
		if strings.ContainsAny(retryAfter, "\r\n") {
			return // not a possible header value
		}
		e := newAPIError("POST", "/tasks", http.StatusTooManyRequests, body)
		fl := failure{err: e, apiErr: e, header: http.Header{"Retry-After": {retryAfter}}}
		now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
		for _, req := range []*apiRequest{{retry: retrySafe}, {retry: retryUnsafe}} {
			v := testPolicy.judge(req, fl, 0, now, 0.999)
			var rle *RateLimitError
			if !errors.As(v.err, &rle) || !errors.Is(v.err, ErrRateLimited) {
				t.Fatalf("a 429 must surface as *RateLimitError: %v", v.err)
			}
			if v.delay < 0 || v.delay > max(testPolicy.MaxDelay, testPolicy.MaxQuotaWait) {
				t.Fatalf("delay %s outside the policy", v.delay)
			}
			if v.retry && rle.Interval != "" && rle.Interval != QuotaMinute {
				t.Fatalf("waited for a %q quota", rle.Interval)
			}
			if errors.Is(v.err, ErrOutcomeUnknown) {
				t.Fatal("a 429 is never outcome unknown")
			}
		}
	})
}

// Sync batch results of toloka-api.md §2.3, §10.2 and §10.7.
var batchSeeds = []string{
	`{"items":{"0":{"id":"f432cac2-7184-47a3-8220-12ce362cb208","pool_id":"21","input_values":{"image":"http://images.com/1.png"},"overlap":3,"created":"2016-09-29T18:04:00"}},"validation_errors":{"1":{"input_values.image":{"code":"VALUE_REQUIRED","message":"Value must be present and not equal to null"}},"2":{"input_values.image":{"code":"VALUE_REQUIRED","message":"Value must be present and not equal to null"},"input_values.imagis":{"code":"VALUE_NOT_ALLOWED","message":"Unknown field name"}}}}`,
	`{"items":{"0":{"id":"t1","pool_id":"36502086","tasks":[{"input_values":{"a":1}}],"overlap":1,"created":"2022-11-22T16:09:00.308"},"2":{"id":"t2","pool_id":"36502086","tasks":[],"overlap":1,"created":"2022-11-22T16:09:00.308"}},"validation_errors":{"1":{},"3":{"tasks.0.input_values":{"code":"VALUE_REQUIRED","message":"m","params":[1,"x",null]}}}}`,
	`{"items":{"0":{"id":"t","pool_id":"1","input_values":{},"overlap":null,"infinite_overlap":true,"known_solutions":[{"output_values":{"r":"OK"},"correctness_weight":0.8}]}}}`,
	`{"items":{}}`,
	`{"items":{"x":{}}}`,
	`{}`,
	`[]`,
	`null`,
}

func FuzzDecodeBatchResult(f *testing.F) {
	for _, s := range batchSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkBatch(t, data, collectionTasks, decodeBatchResult[Task])
		checkBatch(t, data, collectionTaskSuites, decodeBatchResult[TaskSuite])
	})
}

func checkBatch[T any](t *testing.T, data []byte, collection string, decode func([]byte, string) (*BatchResult[T], error)) {
	t.Helper()
	res, err := decode(data, collection)
	if err != nil {
		if res != nil {
			t.Fatal("result with an error")
		}
		return
	}
	// Map order is random in Go; the result must not be.
	if again, _ := decode(data, collection); !reflect.DeepEqual(res, again) {
		t.Fatalf("two decodings differ:\n%+v\n%+v", res, again)
	}
	for index, errs := range res.ValidationErrors {
		for i, fe := range errs {
			if fe.Index != index || fe.Collection != collection {
				t.Fatalf("field error %+v filed under %d", fe, index)
			}
			if i > 0 && errs[i-1].Field > fe.Field {
				t.Fatalf("field errors of item %d not sorted", index)
			}
		}
	}
	if (res.Err() == nil) != (len(res.ValidationErrors) == 0) {
		t.Fatalf("Err() = %v with %d rejected items", res.Err(), len(res.ValidationErrors))
	}
	if err := res.Err(); err != nil && !errors.Is(err, ErrValidation) {
		t.Fatal("Err() does not match ErrValidation")
	}
	created := res.CreatedIndexes()
	if len(created) != len(res.Items) || !sort.IntsAreSorted(created) {
		t.Fatalf("CreatedIndexes %v for %d items", created, len(res.Items))
	}
	if !sort.IntsAreSorted(res.RejectedIndexes()) {
		t.Fatal("RejectedIndexes not sorted")
	}
}

// Operations of toloka-api.md §10.3, §10.4 and §10.7, and the SDK fixtures'
// details shape (§6.1).
var operationSeeds = []string{
	`{"id":"281073ea-ab34-416e-a028-47421ff1b166","type":"TASK.BATCH_CREATE","status":"RUNNING","submitted":"2016-10-10T20:33:01","started":"2016-10-10T23:33:00","progress":0,"parameters":{"skip_invalid_items":true,"allow_defaults":true,"open_pool":true}}`,
	`{"id":"26e130ad3652443a3dc5094791e48ef9","type":"TASK.BATCH_CREATE","status":"FAIL","submitted":"2015-12-13T23:32:01","started":"2015-12-13T23:33:00","finished":"2015-12-13T23:34:12","progress":100,"parameters":{"allow_defaults":false,"skip_invalid_items":false,"open_pool":false},"details":{"total_count":2,"valid_count":1,"not_valid_count":1,"success_count":0,"failed_count":2}}`,
	`{"id":"57068577e4b0bf7b07a0256f","type":"TASK_SUITE.BATCH_CREATE","status":"FAIL","submitted":"2022-04-07T16:06:15.902","started":"2022-04-07T16:06:15.902","finished":"2022-04-07T16:06:15.902","progress":100,"parameters":{"open_pool":false,"allow_defaults":false,"skip_invalid_items":false},"details":{"total_count":2,"valid_count":0,"failed_count":2,"success_count":0,"not_valid_count":2}}`,
	`{"id":"x","type":"POOL.OPEN","status":"SUCCESS","submitted":"2023-03-28T11:06:09.82712","details":{"items_count":5}}`,
	`{"id":"x","status":"PENDING","submitted":"2023-03-28T11:06:09Z","details":{"total_count":"2"}}`,
	`{"status":null,"submitted":null,"progress":null}`,
}

func FuzzOperation(f *testing.F) {
	for _, s := range operationSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var op Operation
		if json.Unmarshal(data, &op) != nil {
			return
		}
		terminal := op.Status == OperationSuccess || op.Status == OperationFail
		if op.IsTerminal() != terminal {
			t.Fatalf("IsTerminal() = %v for status %q", op.IsTerminal(), op.Status)
		}
		_ = op.Counters()
		out, err := json.Marshal(&op)
		if err != nil {
			t.Fatalf("a decoded operation does not encode: %v", err)
		}
		var again Operation
		if !timestampsInRange(op.Submitted, op.Started, op.Finished) {
			return // years outside 1..9999 have no wire form to round-trip
		}
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		if again.ID != op.ID || again.Status != op.Status || !again.Submitted.Equal(op.Submitted.Time) ||
			!again.Started.Equal(op.Started.Time) || !again.Finished.Equal(op.Finished.Time) {
			t.Fatalf("round trip changed the operation:\n%+v\n%+v", op, again)
		}
	})
}

func timestampsInRange(ts ...Timestamp) bool {
	for _, t := range ts {
		if !t.IsZero() && (t.UTC().Year() < 1 || t.UTC().Year() > 9999) {
			return false
		}
	}
	return true
}

func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{
		"2016-09-29T18:04:00", "2023-03-28T11:06:09.827", "2023-03-28T11:06:09.82712",
		"2023-03-28T11:06:09.123456789", "2023-03-28T11:06:09Z", "2023-03-28T11:06:09+03:00",
		"2023-03-28", "", "2023-13-01T00:00:00", "0000-01-01T00:00:00", "9999-12-31T23:59:59.999999999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTimestamp(s)
		var viaJSON Timestamp
		jsonErr := viaJSON.UnmarshalJSON([]byte(strconv.Quote(s)))
		if err != nil {
			return
		}
		if ts.Location() != time.UTC {
			t.Fatalf("%q parsed into %v, not UTC", s, ts.Location())
		}
		if s == strings.TrimSpace(s) && strconv.Quote(s) == `"`+s+`"` && (jsonErr != nil || !viaJSON.Equal(ts.Time)) {
			t.Fatalf("JSON and ParseTimestamp disagree on %q: %v / %v", s, jsonErr, viaJSON)
		}
		if !timestampsInRange(ts) || ts.IsZero() {
			return
		}
		back, err := ParseTimestamp(ts.String())
		if err != nil || !back.Equal(ts.Time) {
			t.Fatalf("%q → %q does not parse back: %v", s, ts.String(), err)
		}
		if strings.ContainsAny(ts.String(), "Z+") {
			t.Fatalf("wire form %q carries a zone", ts.String())
		}
	})
}

// Field-error payloads of toloka-api.md §8.3: flat and keyed by item index.
var fieldErrorSeeds = []string{
	`{"input_values.image":{"code":"VALUE_REQUIRED","message":"Value must be present and not equal to null"}}`,
	`{"0":{"input_values.image":{"code":"VALUE_REQUIRED","message":"m"}},"3":{"known_solutions.0.correctness_weight":{"code":"VALUE_GREATER_THAN_MAX","message":"m","params":[1]}}}`,
	`{"filter.and.0.value":{"code":"INVALID_VALUE","message":"m","params":[]}}`,
	`{"appropriate_statuses":["OPEN","CLOSED"]}`,
	`{"interval":"MIN"}`,
	`{"1":{"a":{"code":"X","message":"m"}},"a":{"code":"Y","message":"n"}}`,
	`[]`, `null`, `"x"`, `{}`,
}

func FuzzFieldErrorPayload(f *testing.F) {
	for _, s := range fieldErrorSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		errs := decodeFieldErrorPayload(json.RawMessage(data))
		checkFieldErrorsSorted(t, errs)
		for _, fe := range errs {
			if fe.Index == -1 && fe.Code == "" {
				t.Fatalf("a flat entry without a code was taken for a field error: %+v", fe)
			}
			_ = fe.Error()
			_ = fe.Path()
		}
		// Map order is random in Go; the result must not be.
		if again := decodeFieldErrorPayload(json.RawMessage(data)); !reflect.DeepEqual(errs, again) {
			t.Fatalf("two decodings differ:\n%v\n%v", errs, again)
		}
	})
}

func checkFieldErrorsSorted(t *testing.T, errs []FieldError) {
	t.Helper()
	for i := 1; i < len(errs); i++ {
		a, b := errs[i-1], errs[i]
		if a.Index > b.Index || (a.Index == b.Index && a.Field > b.Field) {
			t.Fatalf("field errors not sorted by index, field: %+v before %+v", a, b)
		}
	}
}
