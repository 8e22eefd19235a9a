package toloka

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Values holds a task's input_values or a solution's output_values: a free
// JSON object keyed by the field ids of the project's task_spec.
//
// Decoding keeps numbers as json.Number, so a 64-bit id survives a round trip
// unchanged; encoding writes json.Number back verbatim. Values you build
// yourself may hold any type encoding/json can marshal.
type Values map[string]any

// UnmarshalJSON decodes a JSON object, keeping numbers as json.Number.
func (v *Values) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		*v = nil
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	m := map[string]any{}
	if err := dec.Decode(&m); err != nil {
		return err
	}
	*v = m
	return nil
}

// marshalJSON encodes v without HTML escaping, which would turn every "&"
// of a URL in input_values into \u0026 for nothing. The models' MarshalJSON
// methods use it too, because encoding/json keeps a Marshaler's bytes as they are.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// timestampLayout is Toloka's wire form (toloka-api.md §1.3): UTC, no zone
// designator, fraction only when non-zero.
const timestampLayout = "2006-01-02T15:04:05.999999999"

// Timestamp is a point in time as Toloka writes it: ISO 8601 in UTC without a
// zone designator ("2023-03-28T11:06:09.827"). Parsing accepts 0–9 fraction
// digits (the server has been seen sending 0, 3 and 5) and a trailing "Z" or
// offset, which some proxies add; encoding always writes UTC without a zone.
type Timestamp struct {
	time.Time
}

// ParseTimestamp parses a Toloka timestamp (toloka-api.md §1.3).
func ParseTimestamp(s string) (Timestamp, error) {
	layouts := [...]string{"2006-01-02T15:04:05.999999999", time.RFC3339Nano, "2006-01-02"}
	for _, layout := range layouts {
		if t, err := time.Parse(layout, s); err == nil {
			return Timestamp{t.UTC()}, nil
		}
	}
	return Timestamp{}, fmt.Errorf("toloka: %q is not a timestamp of the form YYYY-MM-DDThh:mm:ss[.fraction]", s)
}

// String returns the timestamp in Toloka's wire form, or "" when zero.
func (t Timestamp) String() string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timestampLayout)
}

// MarshalJSON writes the timestamp in Toloka's wire form; a zero timestamp is null.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.String() + `"`), nil
}

// MarshalText writes the wire form, so text encoders and map keys agree with
// JSON rather than using time.Time's RFC 3339 with a "Z".
func (t Timestamp) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads a Toloka timestamp; "" leaves it zero.
func (t *Timestamp) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*t = Timestamp{}
		return nil
	}
	parsed, err := ParseTimestamp(string(text))
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}

// UnmarshalJSON reads a Toloka timestamp; null and "" leave it zero.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	s := string(data)
	if s == "null" || s == `""` {
		*t = Timestamp{}
		return nil
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return fmt.Errorf("toloka: timestamp must be a JSON string, got %.40s", s)
	}
	parsed, err := ParseTimestamp(strings.TrimSpace(s[1 : len(s)-1]))
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}

// Overlap says how many Tolokers get a task or suite. Its zero value means
// "not given", which sends neither overlap key, so the pool default applies
// when the call allows defaults. Build other values with FiniteOverlap and
// InfiniteOverlap; the wire encodings are those of toloka-api.md §4.3:
//
//	FiniteOverlap(3)  → "overlap": 3, "infinite_overlap": false
//	InfiniteOverlap() → "overlap": null, "infinite_overlap": true
//	Overlap{}         → neither key
//
// Toloka accepts finite overlaps of 1 to 30000; validation rejects others.
type Overlap struct {
	count    int64
	infinite bool
	set      bool
}

// MinOverlap and MaxOverlap bound a finite overlap on create (toloka-api.md §4.3).
const (
	MinOverlap = 1
	MaxOverlap = 30000
)

// FiniteOverlap returns an overlap of n Tolokers.
func FiniteOverlap(n int64) Overlap { return Overlap{count: n, set: true} }

// InfiniteOverlap returns an overlap that issues the task to every eligible
// Toloker; it is what control and training tasks usually need.
func InfiniteOverlap() Overlap { return Overlap{infinite: true, set: true} }

// IsSet reports whether the overlap was given.
func (o Overlap) IsSet() bool { return o.set }

// IsInfinite reports whether the overlap is infinite.
func (o Overlap) IsInfinite() bool { return o.infinite }

// Count returns the finite overlap and true, or 0 and false when the overlap is
// infinite or not given.
func (o Overlap) Count() (int64, bool) {
	if !o.set || o.infinite {
		return 0, false
	}
	return o.count, true
}

// String describes the overlap for messages.
func (o Overlap) String() string {
	switch {
	case !o.set:
		return "unset"
	case o.infinite:
		return "infinite"
	default:
		return fmt.Sprint(o.count)
	}
}

// wire returns the two JSON fields of §4.3: the overlap as raw JSON ("null"
// when infinite) and the infinite flag; both empty when the overlap is unset.
func (o Overlap) wire() (count json.RawMessage, infinite *bool) {
	if !o.set {
		return nil, nil
	}
	if o.infinite {
		return json.RawMessage("null"), Ptr(true)
	}
	return strconv.AppendInt(nil, o.count, 10), Ptr(false)
}

// overlapFromWire decodes the pair of §4.3. The server always answers with a
// consistent pair; a lone infinite_overlap=false without a count decodes as unset.
func overlapFromWire(count *int64, infinite *bool) Overlap {
	switch {
	case infinite != nil && *infinite:
		return InfiniteOverlap()
	case count != nil:
		return FiniteOverlap(*count)
	default:
		return Overlap{}
	}
}

// Ptr returns a pointer to v, for the optional fields of the models.
func Ptr[T any](v T) *T { return &v }
