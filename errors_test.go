package toloka

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allSentinels lists every family, so each case can check it matches exactly one.
var allSentinels = []Error{ErrNotFound, ErrAccessDenied, ErrUnauthorized, ErrConflict, ErrValidation, ErrRateLimited, ErrServerUnavailable, ErrTooLarge}

func TestAPIErrorFamilies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		body   string
		want   Error // "" means no family
	}{
		// The documented samples of toloka-api.md §10.9 and the table of §8.2.
		{400, `{"code":"VALIDATION_ERROR","message":"Validation failed"}`, ErrValidation},
		{400, `{"code":"VALUE_NOT_ALLOWED","message":"baseline_solutions not allowed"}`, ErrValidation},
		{401, `{"code":"AUTHENTICATION_ERROR","message":"no"}`, ErrUnauthorized},
		{401, `{"code":"OAUTH_AUTHENTICATION_ERROR","message":"expired"}`, ErrUnauthorized},
		{403, `{"code":"ACCESS_DENIED","message":"Access denied"}`, ErrAccessDenied},
		{404, `{"code":"DOES_NOT_EXIST","message":"There are no results for such parameters"}`, ErrNotFound},
		{404, `{"code":"NOT_FOUND","message":"nope"}`, ErrNotFound},
		{405, `{"code":"METHOD_NOT_ALLOWED","message":"Method Not Allowed"}`, ""},
		{406, `{"code":"NOT_ACCEPTABLE","message":"Not acceptable"}`, ""},
		{409, `{"code":"CONFLICT_STATE","message":"Conflict state"}`, ErrConflict},
		{409, `{"code":"INAPPROPRIATE_STATUS","message":"x","payload":{"appropriate_statuses":["OPEN","CLOSED"]}}`, ErrConflict},
		{409, `{"code":"OPERATION_ALREADY_EXISTS","message":"Operation with provided id already exists"}`, ErrConflict},
		{413, `{"code":"ENTITY_TOO_LARGE","message":"too many items"}`, ErrTooLarge},
		{415, `{"code":"UNSUPPORTED_MEDIA_TYPE","message":"json please"}`, ""},
		{429, `{"code":"TOO_MANY_REQUESTS","message":"Too many requests"}`, ErrRateLimited},
		{429, `{"code":"TOO_MANY_REQUESTS","message":"quota","payload":{"interval":"DAY"}}`, ErrRateLimited},
		{500, `{"code":"INTERNAL_ERROR","message":"Internal Error"}`, ""},
		{502, `<html><body>Bad Gateway</body></html>`, ErrServerUnavailable},
		{503, `{"code":"REMOTE_SERVICE_UNAVAILABLE","message":"Service is temporary unavailable"}`, ErrServerUnavailable},
		{504, ``, ErrServerUnavailable},
		{401, ``, ErrUnauthorized},
		{403, `not json`, ErrAccessDenied},
		{404, `{"message":"no code"}`, ErrNotFound},
		{400, `{"code":"TASK_VALIDATION_ERROR","message":"x"}`, ErrValidation},
	}
	for _, tc := range cases {
		e := newAPIError(http.MethodGet, "/pools/1", tc.status, []byte(tc.body))
		var err error = e
		for _, s := range allSentinels {
			assert.Equal(t, s == tc.want, errors.Is(err, s), "%d %s: Is(%v)", tc.status, tc.body, s)
		}
		assert.Equal(t, tc.status, e.StatusCode)
	}
}

func TestAPIErrorEnvelope(t *testing.T) {
	t.Parallel()
	body := `{"request_id":"337d68d1-974d-42b1-a2d0-6234f6373eed","code":"INAPPROPRIATE_STATUS",
	  "message":"This or related resource is in inappropriate status, operation is not allowed",
	  "payload":{"appropriate_statuses":["OPEN","CLOSED"]}}`
	e := newAPIError(http.MethodPost, "/pools/1/open", 409, []byte(body))
	assert.Equal(t, CodeInappropriateStatus, e.Code)
	assert.Equal(t, "337d68d1-974d-42b1-a2d0-6234f6373eed", e.RequestID)
	assert.JSONEq(t, `{"appropriate_statuses":["OPEN","CLOSED"]}`, string(e.Payload))
	assert.Empty(t, e.FieldErrors)
	assert.Empty(t, e.Body)
	assert.Equal(t, "toloka: POST /pools/1/open: 409 Conflict: INAPPROPRIATE_STATUS: This or related resource is in inappropriate status, operation is not allowed (request_id 337d68d1-974d-42b1-a2d0-6234f6373eed)", e.Error())
}

func TestAPIErrorFieldPayloads(t *testing.T) {
	t.Parallel()
	// A single-object VALIDATION_ERROR (toloka-api.md §10.9): a flat field map.
	flat := newAPIError(http.MethodPost, "/tasks", 400, []byte(`{"request_id":"r","code":"VALIDATION_ERROR","message":"Validation failed",
	  "payload":{"input_values.image":{"code":"VALUE_REQUIRED","message":"Value must be present and not equal to null"},
	             "input_values.imagis":{"code":"VALUE_NOT_ALLOWED","message":"Unknown field name","params":["imagis"]}}}`))
	require.Len(t, flat.FieldErrors, 2)
	assert.Equal(t, FieldError{Index: -1, Field: "input_values.image", Code: "VALUE_REQUIRED", Message: "Value must be present and not equal to null"}, flat.FieldErrors[0])
	assert.Equal(t, []any{"imagis"}, flat.FieldErrors[1].Params)
	assert.Contains(t, flat.Error(), "input_values.imagis: VALUE_NOT_ALLOWED: Unknown field name")

	// A batch rejected as a whole: the payload is keyed by item index (§2.3).
	byIndex := newAPIError(http.MethodPost, "/tasks", 400, []byte(`{"code":"VALIDATION_ERROR","message":"Validation failed",
	  "payload":{"10":{"input_values.image":{"code":"VALUE_REQUIRED","message":"m"}},
	             "2":{"known_solutions.0.output_values.color":{"code":"VALUE_NOT_ALLOWED","message":"n"},"input_values.a":{"code":"STRING_EXPECTED","message":"s"}}}}`))
	labelFieldErrors(byIndex, collectionTasks)
	require.Len(t, byIndex.FieldErrors, 3)
	paths := []string{byIndex.FieldErrors[0].Path(), byIndex.FieldErrors[1].Path(), byIndex.FieldErrors[2].Path()}
	assert.Equal(t, []string{"tasks[2].input_values.a", "tasks[2].known_solutions[0].output_values.color", "tasks[10].input_values.image"}, paths)

	// Payloads of other shapes are kept raw and yield no field errors.
	for _, payload := range []string{`[1,2]`, `"text"`, `{"interval":"MIN"}`, `{"1":[1]}`, `null`} {
		e := newAPIError(http.MethodPost, "/tasks", 400, []byte(`{"code":"VALIDATION_ERROR","message":"x","payload":`+payload+`}`))
		assert.Empty(t, e.FieldErrors, payload)
	}
}

func TestAPIErrorFromMalformedBodies(t *testing.T) {
	t.Parallel()
	html := "<html><head><title>502 Bad Gateway</title></head><body>" + strings.Repeat("x", 2000) + "</body></html>"
	cases := map[string]struct {
		body    string
		excerpt string
	}{
		"html":           {html, html[:bodyExcerptLen] + "…"},
		"empty":          {"", ""},
		"truncated json": {`{"code":"INTERNAL_ERR`, `{"code":"INTERNAL_ERR`},
		"json array":     {`[1,2,3]`, `[1,2,3]`},
		"invalid utf8":   {"bad \xff\xfe bytes", "bad ? bytes"},
	}
	for name, tc := range cases {
		e := newAPIError(http.MethodGet, "/operations/1", 502, []byte(tc.body))
		assert.Empty(t, e.Code, name)
		assert.Equal(t, tc.excerpt, e.Body, name)
		assert.ErrorIs(t, e, ErrServerUnavailable, name)
		assert.Contains(t, e.Error(), "502 Bad Gateway", name)
	}
	// A cut inside a multi-byte rune never yields invalid UTF-8.
	long := strings.Repeat("é", bodyExcerptLen)
	e := newAPIError(http.MethodGet, "/x", 500, []byte(long))
	assert.True(t, strings.HasSuffix(e.Body, "…"))
	assert.LessOrEqual(t, len(e.Body), bodyExcerptLen+len("…"))
	assert.NotContains(t, e.Body, "?")
}

func TestErrorsOverHTTP(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	mt.RegisterResponder(http.MethodGet, "=~/pools/404$", httpmock.NewStringResponder(404, `{"code":"DOES_NOT_EXIST","message":"There are no results for such parameters","request_id":"rq"}`))
	mt.RegisterResponder(http.MethodGet, "=~/pools/502$", httpmock.NewStringResponder(502, `<html>bad gateway</html>`))
	mt.RegisterResponder(http.MethodGet, "=~/pools/bad-json$", httpmock.NewStringResponder(200, `{"id":`))
	mt.RegisterResponder(http.MethodGet, "=~/pools/down$", httpmock.NewErrorResponder(errors.New("connection reset by peer")))

	_, err := c.GetPool(context.Background(), "404")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "rq", apiErr.RequestID)
	assert.Equal(t, "/pools/404", apiErr.Path)
	assert.Equal(t, http.MethodGet, apiErr.Method)
	assert.ErrorIs(t, err, ErrNotFound)

	_, err = c.GetPool(context.Background(), "502")
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "<html>bad gateway</html>", apiErr.Body)

	_, err = c.GetPool(context.Background(), "bad-json")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decoding 200 response")
	assert.False(t, errors.As(err, &apiErr), "a 2xx with a bad body is not an API error")

	_, err = c.GetPool(context.Background(), "down")
	require.ErrorContains(t, err, "connection reset by peer")
	var retryErr *RetryError
	require.ErrorAs(t, err, &retryErr)
	assert.Equal(t, 3, retryErr.Attempts, "a GET is retried")
	assert.Contains(t, err.Error(), "GET /pools/down")
	assert.NotContains(t, err.Error(), testKey)
}

func TestContextErrorIsWhatCallersSee(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	mt.RegisterNoResponder(func(*http.Request) (*http.Response, error) {
		cancel()
		return nil, errors.New("transport saw the cancellation")
	})
	_, err := c.GetPool(ctx, "1")
	require.ErrorIs(t, err, context.Canceled)
}

func TestValidationErrorText(t *testing.T) {
	t.Parallel()
	ve := &ValidationError{Errors: []FieldError{
		{Index: 3, Field: "known_solutions.0.correctness_weight", Code: CodeValueGreaterThanMax, Message: "use a weight from 0 to 1", Collection: collectionTasks},
		{Index: 3, Field: "overlap", Code: CodeValueRequired, Message: "set it", Collection: collectionTasks},
		{Index: -1, Field: "input_values", Code: CodeObjectSizeTooLarge, Message: "too big", Collection: collectionTasks},
		{Index: 0, Code: "X", Message: "whole item"},
	}}
	assert.Equal(t, "toloka: 4 problem(s) in 2 item(s)\n"+
		"\ttasks[3].known_solutions[0].correctness_weight: VALUE_GREATER_THAN_MAX: use a weight from 0 to 1\n"+
		"\ttasks[3].overlap: VALUE_REQUIRED: set it\n"+
		"\tinput_values: OBJECT_SIZE_BYTES_GREATER_THAN_MAX: too big\n"+
		"\titems[0]: X: whole item", ve.Error())
	assert.ErrorIs(t, ve, ErrValidation)
	assert.NotErrorIs(t, ve, ErrNotFound)
	assert.Equal(t, []int{-1, 0, 3}, ve.Indexes())
	assert.Equal(t, "request: X: y", FieldError{Index: -1, Code: "X", Message: "y"}.Error())
}

func TestFieldErrorJSONRoundTrip(t *testing.T) {
	t.Parallel()
	var m map[string]fieldErrorJSON
	require.NoError(t, json.Unmarshal([]byte(`{"input_values.x":{"code":"VALUE_LESS_THAN_MIN","message":"Value must be greater or equal to 0.01","params":[0.01]}}`), &m))
	errs := fieldErrorsFromMap(4, collectionTaskSuites, m)
	require.Len(t, errs, 1)
	assert.Equal(t, "task_suites[4].input_values.x", errs[0].Path())
	assert.Equal(t, []any{0.01}, errs[0].Params)
}

func TestValidationErrorTextIsBounded(t *testing.T) {
	t.Parallel()
	ve := &ValidationError{}
	for i := range 5000 {
		ve.Errors = append(ve.Errors, FieldError{Index: i, Field: "overlap", Code: CodeValueRequired, Message: "m", Collection: collectionTasks})
	}
	text := ve.Error()
	assert.Equal(t, maxListedProblems+2, strings.Count(text, "\n")+1)
	assert.Contains(t, text, "toloka: 5000 problem(s) in 5000 item(s)")
	assert.True(t, strings.HasSuffix(text, "... and 4980 more: see ValidationError.Errors"))
}
