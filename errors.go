package toloka

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is the type of the package's sentinel errors. Match them with
// errors.Is; they are constants, so nothing can reassign them.
type Error string

// Error returns the sentinel's text.
func (e Error) Error() string { return string(e) }

// Sentinels for families of failures. An *APIError matches the family of its
// status and code; a *ValidationError matches ErrValidation.
const (
	ErrNotFound          Error = "toloka: not found"
	ErrAccessDenied      Error = "toloka: access denied"
	ErrUnauthorized      Error = "toloka: unauthorized"
	ErrConflict          Error = "toloka: conflict"
	ErrValidation        Error = "toloka: validation failed"
	ErrRateLimited       Error = "toloka: rate limited"
	ErrServerUnavailable Error = "toloka: server unavailable"
	ErrTooLarge          Error = "toloka: request too large"
)

// Error codes Toloka sends in the "code" field of an error body
// (toloka-api.md §8.2). The set is open: compare with these constants, and
// expect codes not listed here.
const (
	CodeValidationError          = "VALIDATION_ERROR"
	CodeAuthenticationError      = "AUTHENTICATION_ERROR"
	CodeOAuthAuthenticationError = "OAUTH_AUTHENTICATION_ERROR"
	CodeAccessDenied             = "ACCESS_DENIED"
	CodeDoesNotExist             = "DOES_NOT_EXIST"
	CodeNotFound                 = "NOT_FOUND"
	CodeMethodNotAllowed         = "METHOD_NOT_ALLOWED"
	CodeNotAcceptable            = "NOT_ACCEPTABLE"
	CodeConflictState            = "CONFLICT_STATE"
	CodeInappropriateStatus      = "INAPPROPRIATE_STATUS"
	CodeOperationAlreadyExists   = "OPERATION_ALREADY_EXISTS"
	CodeEntityTooLarge           = "ENTITY_TOO_LARGE"
	CodeUnsupportedMediaType     = "UNSUPPORTED_MEDIA_TYPE"
	CodeTooManyRequests          = "TOO_MANY_REQUESTS"
	CodeInternalError            = "INTERNAL_ERROR"
	CodeRemoteServiceUnavailable = "REMOTE_SERVICE_UNAVAILABLE"

	CodeOperationExecutionError      = "OPERATION_EXECUTION_ERROR"
	CodeOperationLogsArchived        = "OPERATION_LOGS_ARCHIVED"
	CodeMixerConfigRequired          = "MIXER_CONFIG_REQUIRED"
	CodePoolTaskTypeConflict         = "POOL_TASK_TYPE_CONFLICT"
	CodePoolTasksCountExceeded       = "POOL_TASKS_COUNT_EXCEEDED"
	CodePoolTaskSuitesCountExceeded  = "POOL_TASK_SUITES_COUNT_EXCEEDED"
	CodePoolInappropriateStatus      = "POOL_INAPPROPRIATE_STATUS"
	CodePoolLockedByAnotherOperation = "POOL_LOCKED_BY_ANOTHER_OPERATION"
	CodePoolIsTraining               = "POOL_IS_TRAINING"
	CodeProjectInappropriateStatus   = "PROJECT_INAPPROPRIATE_STATUS"
	CodeEmptyPool                    = "EMPTY_POOL"
	CodeTaskValidationError          = "TASK_VALIDATION_ERROR"
	CodeNotEnoughBalance             = "NOT_ENOUGH_BALANCE"
)

// APIError is every error response from Toloka: any non-2xx status. Use
// errors.As to inspect it and errors.Is with the Err* sentinels to classify
// it. When the body is not Toloka's JSON (an HTML page from a proxy, an empty
// body), Code is empty and Body holds a bounded excerpt.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is Toloka's error code, e.g. CodeValidationError.
	Code string
	// Message is Toloka's human-readable text; it may vary for one code.
	Message string
	// RequestID identifies the request to Toloka support.
	RequestID string
	// Payload is the raw "payload" of the error body, if any.
	Payload json.RawMessage
	// FieldErrors are decoded from a payload that maps field paths (or item
	// indexes) to field errors, as VALIDATION_ERROR bodies do (§8.3).
	FieldErrors []FieldError
	// Body is an excerpt (at most 512 bytes) of a body that was not Toloka's
	// JSON error envelope.
	Body string
	// Method and Path name the request that failed (path without the query).
	Method string
	Path   string
}

// Error describes the failure; it never contains the credential.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "toloka: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Code == "" && e.Body != "" {
		fmt.Fprintf(&b, ": body %q", e.Body)
	}
	for i, fe := range e.FieldErrors {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more field errors", len(e.FieldErrors)-i)
			break
		}
		fmt.Fprintf(&b, "; %s", fe.Error())
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request_id %s)", e.RequestID)
	}
	return b.String()
}

// Is matches the sentinel of the error's family, by code first and by HTTP
// status when the code says nothing more specific.
func (e *APIError) Is(target error) bool {
	sentinel, ok := target.(Error)
	if !ok {
		return false
	}
	return e.family() == sentinel
}

func (e *APIError) family() Error {
	switch e.Code {
	case CodeValidationError, CodeTaskValidationError:
		return ErrValidation
	case CodeAuthenticationError, CodeOAuthAuthenticationError:
		return ErrUnauthorized
	case CodeAccessDenied:
		return ErrAccessDenied
	case CodeDoesNotExist, CodeNotFound:
		return ErrNotFound
	case CodeTooManyRequests:
		return ErrRateLimited
	case CodeRemoteServiceUnavailable:
		return ErrServerUnavailable
	case CodeEntityTooLarge:
		return ErrTooLarge
	}
	switch s := e.StatusCode; {
	case s == http.StatusBadRequest:
		return ErrValidation
	case s == http.StatusUnauthorized:
		return ErrUnauthorized
	case s == http.StatusForbidden:
		return ErrAccessDenied
	case s == http.StatusNotFound:
		return ErrNotFound
	case s == http.StatusConflict:
		return ErrConflict
	case s == http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case s == http.StatusTooManyRequests:
		return ErrRateLimited
	case s == http.StatusBadGateway, s == http.StatusServiceUnavailable, s == http.StatusGatewayTimeout:
		return ErrServerUnavailable
	}
	return ""
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// bodyExcerptLen bounds the excerpt of a non-JSON error body kept in APIError.Body.
const bodyExcerptLen = 512

// newAPIError builds the error for a non-2xx response from its (bounded)
// body. It never fails: a body that is not Toloka's envelope is kept as an
// excerpt.
func newAPIError(method, path string, status int, body []byte) *APIError {
	e := &APIError{StatusCode: status, Method: method, Path: path}
	var env struct {
		Code      string          `json:"code"`
		Message   string          `json:"message"`
		RequestID string          `json:"request_id"`
		Payload   json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Code == "" {
		e.Body = excerpt(body)
		return e
	}
	e.Code, e.Message, e.RequestID = env.Code, env.Message, env.RequestID
	if len(env.Payload) > 0 && !bytes.Equal(env.Payload, []byte("null")) {
		e.Payload = env.Payload
		e.FieldErrors = decodeFieldErrorPayload(env.Payload)
	}
	return e
}

// excerpt returns at most bodyExcerptLen bytes of body, cut on a rune boundary.
func excerpt(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) <= bodyExcerptLen {
		return strings.ToValidUTF8(string(body), "?")
	}
	cut := bodyExcerptLen
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	return strings.ToValidUTF8(string(body[:cut]), "?") + "…"
}

// FieldError is one problem with one field of one item. The same type carries
// problems found by the client's validation, by the server in a sync batch
// result, in an async operation's log, and in a 400 VALIDATION_ERROR payload.
type FieldError struct {
	// Index is the item's position in the request, or -1 when the error is
	// not about one item.
	Index int
	// Field is the path inside the item as the API writes it, e.g.
	// "input_values.image" or "known_solutions.0.correctness_weight"; empty
	// when the error concerns the whole item or request.
	Field string
	// Code is the validation code, e.g. "VALUE_REQUIRED" (toloka-api.md §8.3).
	Code string
	// Message says what is wrong and, for client-side checks, how to fix it.
	Message string
	// Params are the code's parameters, such as a violated bound.
	Params []any
	// Collection names what the index counts ("tasks" or "task_suites"); it
	// prefixes Path.
	Collection string
}

// Path returns the full path of the field for people, such as
// "tasks[3].known_solutions[0].correctness_weight".
func (e FieldError) Path() string {
	var b strings.Builder
	if e.Index >= 0 {
		coll := e.Collection
		if coll == "" {
			coll = "items"
		}
		fmt.Fprintf(&b, "%s[%d]", coll, e.Index)
	}
	for _, seg := range strings.Split(e.Field, ".") {
		if seg == "" {
			continue
		}
		if _, err := strconv.Atoi(seg); err == nil && b.Len() > 0 {
			fmt.Fprintf(&b, "[%s]", seg)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// Error formats the error as "path: CODE: message".
func (e FieldError) Error() string {
	path := e.Path()
	if path == "" {
		path = "request"
	}
	return fmt.Sprintf("%s: %s: %s", path, e.Code, e.Message)
}

// fieldErrorJSON is the wire form of one field error (§8.3).
type fieldErrorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Params  []any  `json:"params,omitempty"`
}

// fieldErrorsFromMap turns a field-path → error map of one item into a
// FieldError list sorted by field, so results are deterministic.
func fieldErrorsFromMap(index int, collection string, m map[string]fieldErrorJSON) []FieldError {
	out := make([]FieldError, 0, len(m))
	for field, fe := range m {
		out = append(out, FieldError{Index: index, Field: field, Code: fe.Code, Message: fe.Message, Params: fe.Params, Collection: collection})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// decodeFieldErrorPayload reads a VALIDATION_ERROR payload, which is either a
// field map ({"input_values.image": {code, message}}) or, for batches, a map
// keyed by item index ({"3": {"input_values.image": {...}}}). Anything else
// yields nil; the raw payload stays on the APIError.
func decodeFieldErrorPayload(payload json.RawMessage) []FieldError {
	var raw map[string]json.RawMessage
	if json.Unmarshal(payload, &raw) != nil || len(raw) == 0 {
		return nil
	}
	var out []FieldError
	flat := map[string]fieldErrorJSON{}
	for key, v := range raw {
		var fe fieldErrorJSON
		if json.Unmarshal(v, &fe) == nil && fe.Code != "" {
			flat[key] = fe
			continue
		}
		index, err := parseIndexKey(key)
		var nested map[string]fieldErrorJSON
		if err != nil || json.Unmarshal(v, &nested) != nil {
			continue
		}
		out = append(out, fieldErrorsFromMap(index, "", nested)...)
	}
	out = append(out, fieldErrorsFromMap(-1, "", flat)...)
	sortFieldErrors(out)
	return out
}

func sortFieldErrors(errs []FieldError) {
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Index != errs[j].Index {
			return errs[i].Index < errs[j].Index
		}
		return errs[i].Field < errs[j].Field
	})
}

// maxListedProblems bounds the lines of ValidationError.Error, so a batch of
// 5,000 bad items does not make a 5,000-line log message.
const maxListedProblems = 20

// ValidationError lists every problem found in a request before it was sent,
// or every item a batch rejected. Each FieldError names the item's index,
// the field, a code and how to fix it. It matches ErrValidation.
type ValidationError struct {
	Errors []FieldError
}

// Error lists the problems, one per line after a summary, up to 20 of them;
// Errors holds them all.
func (e *ValidationError) Error() string {
	items := map[int]bool{}
	for _, fe := range e.Errors {
		if fe.Index >= 0 { // -1: about the request as a whole
			items[fe.Index] = true
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "toloka: %d problem(s) in %d item(s)", len(e.Errors), len(items))
	for i, fe := range e.Errors {
		if i == maxListedProblems {
			fmt.Fprintf(&b, "\n\t... and %d more: see ValidationError.Errors", len(e.Errors)-i)
			break
		}
		b.WriteString("\n\t")
		b.WriteString(fe.Error())
	}
	return b.String()
}

// Is matches ErrValidation, and ErrTooLarge when a problem is the size of
// the request (too many items, or values over a byte budget).
func (e *ValidationError) Is(target error) bool {
	switch target {
	case ErrValidation:
		return true
	case ErrTooLarge:
		for _, fe := range e.Errors {
			if fe.Code == CodeEntityTooLarge || fe.Code == CodeObjectSizeTooLarge {
				return true
			}
		}
	}
	return false
}

// Indexes returns the distinct item indexes named by the errors, ascending.
func (e *ValidationError) Indexes() []int {
	seen := map[int]bool{}
	var out []int
	for _, fe := range e.Errors {
		if !seen[fe.Index] {
			seen[fe.Index] = true
			out = append(out, fe.Index)
		}
	}
	sort.Ints(out)
	return out
}
