package toloka

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gotoloka/toloka/internal/jsonscan"
)

// Types of operation log entries (toloka-api.md §6.2). The set is open:
// expect others, such as the POOL_OPEN step of an upload with open_pool.
const (
	LogTaskCreate        = "TASK_CREATE"
	LogTaskValidate      = "TASK_VALIDATE"
	LogTaskSuiteCreate   = "TASK_SUITE_CREATE"
	LogTaskSuiteValidate = "TASK_SUITE_VALIDATE"
	LogPoolOpen          = "POOL_OPEN"
)

// ItemIndexKey is the field the SDK adds to every item of an async upload,
// holding the item's position in the request as a decimal string. Toloka
// ignores it but echoes it in the log's input, which is how log entries are
// mapped back to request indexes whatever order the log is in
// (toloka-api.md §9.1; toloka-kit does the same).
const ItemIndexKey = "__item_idx"

// OperationLogEntry is one step of an async operation (toloka-api.md §6.2):
// one item validated or created, or another step such as POOL_OPEN.
type OperationLogEntry struct {
	// Type is the step, e.g. LogTaskCreate or LogTaskValidate.
	Type string `json:"type"`
	// Success is the step's outcome.
	Success bool `json:"success"`
	// Input echoes the submitted item, including its ItemIndexKey marker.
	Input json.RawMessage `json:"input,omitempty"`
	// Output is {"task_id": ...} or {"task_suite_id": ...} on success and,
	// for a rejected item, a map of field path to {code, message, params}.
	Output json.RawMessage `json:"output,omitempty"`
}

// ItemIndex returns the request index carried by the entry's ItemIndexKey
// marker. ok is false when the input has no marker or the marker is not a
// non-negative decimal integer (string or number).
func (e *OperationLogEntry) ItemIndex() (index int, ok bool) {
	raw, present := e.marker()
	if !present {
		return 0, false
	}
	return parseIndex(raw)
}

// marker returns the raw JSON value of the top-level ItemIndexKey of the
// input, and whether the key is there. A key of the same name nested inside
// input_values is not the marker.
func (e *OperationLogEntry) marker() (json.RawMessage, bool) {
	return topLevelValue(e.Input, ItemIndexKey)
}

// parseIndex reads "12" or 12; at most 9 digits, so it cannot overflow.
func parseIndex(raw json.RawMessage) (int, bool) {
	digits := raw
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		digits = raw[1 : len(raw)-1]
	}
	if len(digits) == 0 || len(digits) > 9 {
		return 0, false
	}
	n := 0
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int(d-'0')
	}
	return n, true
}

// CreatedID returns the id of the task or task suite a successful create
// step made, or "" when the output names none.
func (e *OperationLogEntry) CreatedID() string {
	if !e.Success {
		return ""
	}
	for _, key := range [...]string{"task_suite_id", "task_id"} {
		raw, ok := topLevelValue(e.Output, key)
		if !ok || len(raw) < 2 || raw[0] != '"' {
			continue
		}
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1])
		}
		var id string
		if json.Unmarshal(raw, &id) == nil {
			return id
		}
	}
	return ""
}

// collection returns the FieldError collection of the entry's type.
func (e *OperationLogEntry) collection() string {
	switch {
	case strings.HasPrefix(e.Type, "TASK_SUITE_"):
		return collectionTaskSuites
	case strings.HasPrefix(e.Type, "TASK_"):
		return collectionTasks
	}
	return ""
}

// FieldErrors returns the problems of a failed step, with Index set from the
// marker (-1 without one) and Collection from the entry type. It reads both
// shapes the sources give for a failed output (toloka-api.md §6.2, §12): a
// map of field path to {code, message, params}, and an error envelope
// {code, message, payload} whose payload may hold such a map. An output it
// cannot read becomes one error with code LOG_OUTPUT_UNREADABLE holding an
// excerpt, so no failure is silent. A successful step has none.
func (e *OperationLogEntry) FieldErrors() []FieldError {
	if e.Success {
		return nil
	}
	index, ok := e.ItemIndex()
	if !ok {
		index = -1
	}
	coll := e.collection()
	var env struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Payload json.RawMessage `json:"payload"`
	}
	if json.Unmarshal(e.Output, &env) == nil && env.Code != "" {
		errs := decodeFieldErrorPayload(env.Payload)
		for i := range errs {
			errs[i].Index, errs[i].Collection = index, coll
			if errs[i].Code == "" {
				// A nested field error without a code of its own: the
				// envelope's code is the best account of it.
				errs[i].Code = env.Code
			}
		}
		if len(errs) == 0 {
			errs = []FieldError{{Index: index, Code: env.Code, Message: env.Message, Collection: coll}}
		}
		return errs
	}
	var fields map[string]fieldErrorJSON
	if json.Unmarshal(e.Output, &fields) == nil && len(fields) > 0 && allCoded(fields) {
		return fieldErrorsFromMap(index, coll, fields)
	}
	return []FieldError{{
		Index: index, Code: CodeLogOutputUnreadable, Collection: coll,
		Message: fmt.Sprintf("%s step failed; its output is not a field-error map: %s", e.Type, excerpt(e.Output)),
	}}
}

// allCoded reports whether every field error of a map names a code; a map
// with an uncoded entry (e.g. {"input_values.x": {}}) would yield a field
// error that says nothing, so it is reported as unreadable instead.
func allCoded(fields map[string]fieldErrorJSON) bool {
	for _, fe := range fields {
		if fe.Code == "" {
			return false
		}
	}
	return true
}

// CodeLogOutputUnreadable is the FieldError code the SDK gives a failed log
// step whose output it cannot read as field errors.
const CodeLogOutputUnreadable = "LOG_OUTPUT_UNREADABLE"

// errStopLog ends a log read early when the consumer stops.
const errStopLog Error = "toloka: operation log reading stopped"

// OperationLog reads GET /operations/{id}/log as a stream: entries are
// decoded one at a time while the body arrives, so a log of 100,000+
// entries never sits in memory, and breaking out of the loop stops the read.
// A failure, including one in the middle of the body, is yielded once as
// the last element. The read is not retried once entries were yielded;
// reading the log again is safe.
//
// Logs exist only for async operations and are kept about a month
// (toloka-api.md §6.2). The order of entries is not documented: map them to
// request indexes with ItemIndex, or use ReadUploadResults.
func (c *Client) OperationLog(ctx context.Context, id string, opts ...CallOption) iter.Seq2[OperationLogEntry, error] {
	return func(yield func(OperationLogEntry, error) bool) {
		stopped := false
		err := c.readLog(ctx, id, false, opts, func(e *OperationLogEntry) error {
			if !yield(*e, nil) {
				stopped = true
				return errStopLog
			}
			return nil
		})
		if err != nil && !stopped {
			yield(OperationLogEntry{}, err)
		}
	}
}

// readLog streams the log of operation id to fn. With reuse, fn gets the
// same entry every time, its Input and Output reusing one buffer, and must
// copy what it keeps; this makes a long log cost almost no allocation.
func (c *Client) readLog(ctx context.Context, id string, reuse bool, opts []CallOption, fn func(*OperationLogEntry) error) error {
	path, err := resourcePath("operations", id, "log")
	if err != nil {
		return err
	}
	r := &apiRequest{method: http.MethodGet, path: path, retry: retrySafe}
	return c.stream(ctx, r, opts, func(body io.Reader) error {
		if err := decodeLog(body, reuse, fn); err != nil && err != errStopLog {
			return fmt.Errorf("toloka: GET /%s: %w", path, err)
		} else if err != nil {
			return err
		}
		return nil
	})
}

// decodeLog decodes a JSON array of log entries element by element. It also
// takes null (no entries) and a single object, which the API reference
// shows by mistake (toloka-api.md §6.2).
//
// It does not use json.Decoder: a long log is most of what an upload reads,
// and the decoder scans every entry twice (once to find its end, once to
// decode it) and decodes input and output only to copy them. Here each
// entry's end is found with a string-aware byte loop, the entry is checked
// once with json.Valid, and its four fields are sliced out of it; with reuse
// Input and Output point into the entry buffer itself.
func decodeLog(r io.Reader, reuse bool, fn func(*OperationLogEntry) error) error {
	br := bufio.NewReaderSize(r, 16<<10)
	first, err := peekNonSpace(br)
	if err == io.EOF {
		return fmt.Errorf("empty body; want a JSON array of log entries")
	}
	if err != nil {
		return err
	}
	ls := &logScanner{br: br}
	var entry OperationLogEntry
	next := func() error {
		obj, err := ls.object()
		if err != nil {
			return err
		}
		if err := entry.decode(obj, reuse); err != nil {
			return err
		}
		return nil
	}
	switch first {
	case '{':
		if err := next(); err != nil {
			return fmt.Errorf("decoding log entry: %w", err)
		}
		return fn(&entry)
	case 'n':
		var null any
		return json.NewDecoder(br).Decode(&null)
	case '[':
	default:
		return fmt.Errorf("log body starts with %q; want a JSON array of log entries", first)
	}
	_, _ = br.ReadByte() // '['
	for n := 0; ; n++ {
		c, err := peekNonSpace(br)
		if err != nil {
			return fmt.Errorf("log array not closed: %w", unexpectedEOF(err))
		}
		if c == ']' {
			return nil
		}
		if n > 0 {
			if c != ',' {
				return fmt.Errorf("decoding log entry %d: want ',' or ']' after an entry, got %q", n, c)
			}
			_, _ = br.ReadByte()
			if c, err = peekNonSpace(br); err != nil {
				return fmt.Errorf("decoding log entry %d: %w", n, unexpectedEOF(err))
			}
		}
		if c != '{' {
			return fmt.Errorf("decoding log entry %d: want a JSON object, got %q", n, c)
		}
		if err := next(); err != nil {
			return fmt.Errorf("decoding log entry %d: %w", n, err)
		}
		if err := fn(&entry); err != nil {
			return err
		}
	}
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// logScanner cuts a stream into JSON objects; buf holds the last one.
type logScanner struct {
	br  *bufio.Reader
	buf []byte
}

// object reads the object starting at the next byte ('{') into s.buf,
// which the next call reuses. It only tracks strings and nesting; the
// caller checks the result with json.Valid.
func (s *logScanner) object() ([]byte, error) {
	s.buf = s.buf[:0]
	var structure jsonscan.Structure
	for {
		chunk, err := s.br.Peek(max(s.br.Buffered(), 1))
		if len(chunk) == 0 {
			return nil, unexpectedEOF(err)
		}
		if len(s.buf)+len(chunk) > maxLogEntryBytes {
			return nil, fmt.Errorf("an operation log entry is larger than %d bytes, more than any item Toloka accepts", maxLogEntryBytes)
		}
		for off := 0; ; {
			i := structure.Next(chunk[off:])
			if i < 0 {
				break
			}
			i += off
			if c := chunk[i]; (c == '}' || c == ']') && structure.Depth == 0 {
				s.buf = append(s.buf, chunk[:i+1]...)
				_, _ = s.br.Discard(i + 1)
				return s.buf, nil
			}
			off = i + 1
		}
		s.buf = append(s.buf, chunk...)
		_, _ = s.br.Discard(len(chunk))
	}
}

// decode fills e from one log entry object, as encoding/json would decode
// it into OperationLogEntry: keys match case-insensitively, the last of a
// repeated key wins, unknown keys are ignored, null leaves a field empty.
// With reuse, Input and Output alias obj.
func (e *OperationLogEntry) decode(obj []byte, reuse bool) error {
	if !json.Valid(obj) {
		var v any
		err := json.Unmarshal(obj, &v) // for encoding/json's own message
		if err == nil {
			err = fmt.Errorf("invalid JSON")
		}
		return err
	}
	*e = OperationLogEntry{}
	i := skipSpace(obj, 1)
	if i < len(obj) && obj[i] == '}' {
		return nil
	}
	for i < len(obj) {
		start := i
		if i = skipString(obj, i); i < 0 {
			return fmt.Errorf("bad key")
		}
		key := obj[start+1 : i-1]
		i = skipSpace(obj, skipSpace(obj, i)+1) // past ':'
		valueStart := i
		if i = skipValue(obj, i); i < 0 {
			return fmt.Errorf("bad value of %q", key)
		}
		value := obj[valueStart:i]
		isNull := string(value) == "null"
		switch {
		case equalKey(key, "type"):
			if isNull {
				break
			}
			if value[0] != '"' {
				return fmt.Errorf("json: cannot unmarshal %s into Go struct field OperationLogEntry.type of type string", jsonKindOf(value))
			}
			e.Type = internLogType(value)
		case equalKey(key, "success"):
			switch string(value) {
			case "true":
				e.Success = true
			case "false", "null":
				e.Success = false
			default:
				return fmt.Errorf("json: cannot unmarshal %s into Go struct field OperationLogEntry.success of type bool", jsonKindOf(value))
			}
		case equalKey(key, "input"):
			e.Input = rawField(value, reuse)
		case equalKey(key, "output"):
			e.Output = rawField(value, reuse)
		}
		i = skipSpace(obj, i)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
			continue
		}
		break
	}
	return nil
}

// equalKey matches a JSON key as encoding/json matches field names: exactly
// or case-insensitively, without escapes (a key with escapes is compared
// after decoding it).
func equalKey(key []byte, name string) bool {
	if string(key) == name || bytes.EqualFold(key, []byte(name)) {
		return true
	}
	if bytes.IndexByte(key, '\\') < 0 {
		return false
	}
	var k string
	if json.Unmarshal(append(append([]byte{'"'}, key...), '"'), &k) != nil {
		return false
	}
	return strings.EqualFold(k, name)
}

// internLogType returns the entry type without allocating for known types.
func internLogType(quoted []byte) string {
	raw := quoted[1 : len(quoted)-1]
	for _, known := range [...]string{LogTaskCreate, LogTaskValidate, LogTaskSuiteCreate, LogTaskSuiteValidate, LogPoolOpen} {
		if string(raw) == known {
			return known
		}
	}
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw)
	}
	var s string                   // escapes or invalid UTF-8 (which becomes U+FFFD)
	_ = json.Unmarshal(quoted, &s) // valid: the entry passed json.Valid
	return s
}

// rawField is a RawMessage of value; null is "null", as encoding/json
// gives a RawMessage.
func rawField(value []byte, reuse bool) json.RawMessage {
	if reuse {
		return value
	}
	return bytes.Clone(value)
}

// jsonKindOf names a JSON value's kind as encoding/json's errors do.
func jsonKindOf(value []byte) string {
	switch value[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// peekNonSpace skips JSON white space and returns the next byte unread.
func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b, br.UnreadByte()
	}
}

// UploadResults is what an async upload's log says about each item, keyed
// by the item's position in the request (read from the ItemIndexKey marker
// the SDK adds to every item it uploads asynchronously).
//
// No entry is dropped. Entries about no single item (POOL_OPEN, or types
// Toloka may add) are in Other; entries that are about an item but cannot be
// placed — no marker (items uploaded by other tools), a marker that is not
// an index of the request, or a second outcome for one index — are in
// Unmatched with the reason.
type UploadResults struct {
	// Created maps request index to the id of the created task or suite.
	Created map[int]string
	// ValidationErrors maps request index to the item's problems, in the same
	// FieldError type as sync results (Index and Collection set).
	ValidationErrors map[int][]FieldError
	// Other holds entries about no single item, such as POOL_OPEN.
	Other []OperationLogEntry
	// Unmatched holds item entries that could not be placed.
	Unmatched []UnmatchedLogEntry
	// Omitted counts entries and field errors not kept because a bound was
	// reached (see maxKeptLogBytes), so a broken or hostile server cannot
	// make the client hold an unbounded log; they are counted, not lost
	// silently.
	Omitted int

	keptBytes int // of the entries in Other and Unmatched
}

// Bounds on what an operation log may make the client hold: one entry echoes
// one item, whose values Toloka limits to 1 MiB of input and 4 MiB of output
// per request (toloka-api.md §2.5), so larger entries are refused; the
// entries kept whole (Other, Unmatched) and the field errors per item are
// capped, the rest counted in Omitted.
const (
	maxLogEntryBytes       = 16 << 20
	maxKeptLogBytes        = 16 << 20
	maxFieldErrorsPerIndex = 100
	// maxLogIndexUnknownCount bounds the indexes accepted when the caller
	// does not know the request's size: far above any upload's 10,000.
	maxLogIndexUnknownCount = 1 << 20
)

// keep stores a copy of e in Other or Unmatched while the bound allows.
func (r *UploadResults) keep(e *OperationLogEntry, reason string, other bool) {
	size := len(e.Input) + len(e.Output)
	if r.keptBytes+size > maxKeptLogBytes {
		r.Omitted++
		return
	}
	r.keptBytes += size
	if other {
		r.Other = append(r.Other, cloneEntry(e))
		return
	}
	r.Unmatched = append(r.Unmatched, UnmatchedLogEntry{OperationLogEntry: cloneEntry(e), Reason: reason})
}

// UnmatchedLogEntry is a log entry about an item that could not be mapped to
// a request index, and why.
type UnmatchedLogEntry struct {
	OperationLogEntry
	// Reason says why the entry could not be placed.
	Reason string
}

// MissingIndexes returns the indexes below n that the log neither created
// nor rejected, ascending. After a SUCCESS every index should be accounted
// for; after an all-or-nothing FAIL the valid items are typically missing.
func (r *UploadResults) MissingIndexes(n int) []int {
	var missing []int
	for i := range n {
		if _, ok := r.Created[i]; ok {
			continue
		}
		if _, ok := r.ValidationErrors[i]; !ok {
			missing = append(missing, i)
		}
	}
	return missing
}

// fieldErrors lists every item's problems by ascending index.
func (r *UploadResults) fieldErrors() []FieldError {
	var all []FieldError
	for _, index := range sortedKeys(r.ValidationErrors) {
		all = append(all, r.ValidationErrors[index]...)
	}
	return all
}

// ReadUploadResults reads the log of an async upload and maps every entry to
// the request index of its item. items is how many items the request held:
// a marker outside 0..items-1 is reported in Unmatched. Pass 0 when the
// count is unknown (e.g. picking the upload up in another process) to accept
// any non-negative marker.
//
// The log is streamed: memory grows with the number of items (one id or one
// set of field errors each), not with the size of the log.
func (c *Client) ReadUploadResults(ctx context.Context, operationID string, items int, opts ...CallOption) (*UploadResults, error) {
	res := &UploadResults{Created: make(map[int]string, max(items, 0)), ValidationErrors: map[int][]FieldError{}}
	err := c.readLog(ctx, operationID, true, opts, func(e *OperationLogEntry) error {
		res.add(e, items)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// add places one entry. e is reused by the caller: whatever is kept is copied.
func (r *UploadResults) add(e *OperationLogEntry, items int) {
	raw, hasMarker := e.marker()
	if !hasMarker && !isItemStep(e.Type) {
		r.keep(e, "", true)
		return
	}
	unmatched := func(format string, args ...any) {
		r.keep(e, fmt.Sprintf(format, args...), false)
	}
	if !hasMarker {
		unmatched("the input has no %s marker", ItemIndexKey)
		return
	}
	index, ok := parseIndex(raw)
	if !ok || (items > 0 && index >= items) || (items <= 0 && index >= maxLogIndexUnknownCount) {
		if items > 0 {
			unmatched("the %s marker %s is not an index of the request (0..%d)", ItemIndexKey, raw, items-1)
		} else {
			unmatched("the %s marker %s is not a request index", ItemIndexKey, raw)
		}
		return
	}
	if !e.Success {
		errs := e.FieldErrors()
		if room := maxFieldErrorsPerIndex - len(r.ValidationErrors[index]); len(errs) > room {
			r.Omitted += len(errs) - max(room, 0)
			errs = errs[:max(room, 0)]
		}
		if len(errs) > 0 {
			r.ValidationErrors[index] = append(r.ValidationErrors[index], errs...)
		}
		return
	}
	id := e.CreatedID()
	switch prev, dup := r.Created[index]; {
	case id == "":
		// A successful step that created nothing (a passed validation, say)
		// is not an outcome of the item.
		r.keep(e, "", true)
	case dup && prev != id:
		unmatched("item %d was already reported created as %s", index, prev)
	default:
		r.Created[index] = id
	}
}

// isItemStep reports whether a log entry type is about one submitted item.
func isItemStep(typ string) bool {
	switch typ {
	case LogTaskCreate, LogTaskValidate, LogTaskSuiteCreate, LogTaskSuiteValidate:
		return true
	}
	return false
}

func cloneEntry(e *OperationLogEntry) OperationLogEntry {
	return OperationLogEntry{Type: e.Type, Success: e.Success, Input: bytes.Clone(e.Input), Output: bytes.Clone(e.Output)}
}

// topLevelValue returns the raw value of key in the JSON object obj, without
// decoding anything else, so the per-entry cost of reading a long log stays
// near zero. obj has been validated by the decoder; anything unexpected
// reads as absent. Keys are compared exactly, as written.
func topLevelValue(obj []byte, key string) (json.RawMessage, bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return nil, false
		}
		start := i
		if i = skipString(obj, i); i < 0 {
			return nil, false
		}
		name := obj[start+1 : i-1]
		if i = skipSpace(obj, i); i >= len(obj) || obj[i] != ':' {
			return nil, false
		}
		i = skipSpace(obj, i+1)
		valueStart := i
		if i = skipValue(obj, i); i < 0 {
			return nil, false
		}
		if string(name) == key {
			return obj[valueStart:i], true
		}
		if i = skipSpace(obj, i); i >= len(obj) || obj[i] != ',' {
			return nil, false
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"', or
// -1 when it is not closed.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				i--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	for i < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[i])) {
		i++
	}
	return i
}
