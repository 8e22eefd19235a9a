package tolokatest

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gotoloka/toloka"
)

// The fast path reads the common shape of a task in one pass, straight into
// toloka.Task, and remembers where each echoed field's raw JSON sits so the
// stored task can be written by splicing instead of re-encoding. It
// produces exactly what encoding/json would (numbers stay json.Number,
// last duplicate key wins); anything unusual — escapes or non-ASCII in
// strings, read-only or rarely used fields, keys that differ from a known
// one only in case, malformed JSON — makes it give up, and the item takes
// the encoding/json path, which also explains errors.

// Echoed task fields, in the order the fast renderer writes them.
const (
	fPoolID = iota
	fInputValues
	fKnownSolutions
	fMessage
	fBaseline
	fReservedFor
	fUnavailableFor
	fTraitsAllOf
	fTraitsAnyOf
	fTraitsNoneOfAny
	numFastFields
)

func fastFieldNames() [numFastFields]string {
	return [numFastFields]string{
		"pool_id", "input_values", "known_solutions", "message_on_unknown_solution", "baseline_solutions",
		"reserved_for", "unavailable_for", "traits_all_of", "traits_any_of", "traits_none_of_any",
	}
}

// taskSpans locates the raw JSON of a task's echoed fields; a zero end
// means the field is absent (or null).
type taskSpans [numFastFields][2]uint32

// slowTaskKeys are the task keys the fast path leaves to encoding/json.
func isSlowTaskKey(k string) bool {
	switch k {
	case "id", "localization_config", "origin_task_id", "created", "remaining_overlap":
		return true
	}
	return false
}

// fastScanner reads data; sdata is the same bytes as a string, so the
// strings it returns are substrings of one conversion, not allocations.
type fastScanner struct {
	data  []byte
	sdata string
	pos   int
}

func (s *fastScanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *fastScanner) peek() byte {
	s.ws()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

func (s *fastScanner) eat(c byte) bool {
	if s.peek() == c {
		s.pos++
		return true
	}
	return false
}

// str reads a plain string: ASCII, no escapes, no control characters.
func (s *fastScanner) str() (string, bool) {
	if !s.eat('"') {
		return "", false
	}
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			v := s.sdata[start:s.pos]
			s.pos++
			return v, true
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return "", false
		}
		s.pos++
	}
	return "", false
}

// number reads a JSON number and returns its text.
func (s *fastScanner) number() (string, bool) {
	s.ws()
	start := s.pos
	d := s.data
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return "", false
	}
	if i < len(d) && d[i] == '.' {
		i++
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			return "", false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			return "", false
		}
	}
	s.pos = i
	return s.sdata[start:i], true
}

func (s *fastScanner) literal(word string) bool {
	s.ws()
	if len(s.data)-s.pos >= len(word) && string(s.data[s.pos:s.pos+len(word)]) == word {
		s.pos += len(word)
		return true
	}
	return false
}

// value reads any JSON value as encoding/json with UseNumber would into an any.
func (s *fastScanner) value() (any, bool) {
	switch c := s.peek(); {
	case c == '{':
		m, ok := s.object()
		return m, ok
	case c == '[':
		out := []any{}
		ok := s.elements(func() bool {
			v, ok := s.value()
			out = append(out, v)
			return ok
		})
		if !ok {
			return nil, false
		}
		return out, true
	case c == '"':
		return s.str()
	case c == 't':
		return true, s.literal("true")
	case c == 'f':
		return false, s.literal("false")
	case c == 'n':
		return nil, s.literal("null")
	default:
		n, ok := s.number()
		return json.Number(n), ok
	}
}

// object reads a JSON object into a map[string]any (nil for null).
func (s *fastScanner) object() (map[string]any, bool) {
	if s.peek() == 'n' {
		return nil, s.literal("null")
	}
	m := map[string]any{}
	ok := s.members(func(k string) bool {
		v, ok := s.value()
		m[k] = v
		return ok
	})
	if !ok {
		return nil, false
	}
	return m, true
}

// elements reads a JSON array, calling elem to read each element.
func (s *fastScanner) elements(elem func() bool) bool {
	if !s.eat('[') {
		return false
	}
	if s.eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.eat(']') {
			return true
		}
		if !s.eat(',') {
			return false
		}
	}
}

// members reads a JSON object, calling member with each key to read its value.
func (s *fastScanner) members(member func(key string) bool) bool {
	if !s.eat('{') {
		return false
	}
	if s.eat('}') {
		return true
	}
	for {
		k, ok := s.str()
		if !ok || !s.eat(':') || !member(k) {
			return false
		}
		if s.eat('}') {
			return true
		}
		if !s.eat(',') {
			return false
		}
	}
}

func (s *fastScanner) strings() ([]string, bool) {
	if s.peek() == 'n' {
		return nil, s.literal("null")
	}
	out := []string{}
	ok := s.elements(func() bool {
		v, ok := s.str()
		out = append(out, v)
		return ok
	})
	if !ok {
		return nil, false
	}
	return out, true
}

// solutions reads known_solutions or baseline_solutions: objects with
// output_values and a weight, each built into an S by solution.
func solutions[S any](s *fastScanner, weightKey string, solution func(toloka.Values, *float64) S) ([]S, bool) {
	if s.peek() == 'n' {
		return nil, s.literal("null")
	}
	out := []S{}
	ok := s.elements(func() bool {
		var ov toloka.Values
		var w *float64
		ok := s.members(func(k string) bool {
			switch k {
			case "output_values":
				m, ok := s.object()
				ov = m
				return ok
			case weightKey:
				if s.peek() == 'n' {
					w = nil
					return s.literal("null")
				}
				n, ok := s.number()
				if !ok {
					return false
				}
				f, err := strconv.ParseFloat(n, 64)
				w = &f
				return err == nil
			}
			return false
		})
		out = append(out, solution(ov, w))
		return ok
	})
	if !ok {
		return nil, false
	}
	return out, true
}

// decodeTaskFast reads raw into t and spans; false means "use encoding/json".
func decodeTaskFast(raw []byte, sraw string, t *toloka.Task, spans *taskSpans) bool {
	s := fastScanner{data: raw, sdata: sraw}
	if !s.eat('{') {
		return false
	}
	*t = toloka.Task{}
	*spans = taskSpans{}
	var count *int64
	var infinite *bool
	if !s.eat('}') {
		for {
			k, ok := s.str()
			if !ok || !s.eat(':') {
				return false
			}
			s.ws()
			start := s.pos
			field := -1
			switch k {
			case "pool_id":
				field = fPoolID
				if s.peek() == 'n' {
					ok = s.literal("null")
					t.PoolID = ""
				} else {
					t.PoolID, ok = s.str()
				}
			case "input_values":
				field = fInputValues
				var m map[string]any
				m, ok = s.object()
				t.InputValues = m
			case "known_solutions":
				field = fKnownSolutions
				t.KnownSolutions, ok = solutions(&s, "correctness_weight", func(v toloka.Values, w *float64) toloka.KnownSolution {
					return toloka.KnownSolution{OutputValues: v, CorrectnessWeight: w}
				})
			case "baseline_solutions":
				field = fBaseline
				t.BaselineSolutions, ok = solutions(&s, "confidence_weight", func(v toloka.Values, w *float64) toloka.BaselineSolution {
					return toloka.BaselineSolution{OutputValues: v, ConfidenceWeight: w}
				})
			case "message_on_unknown_solution":
				field = fMessage
				if s.peek() == 'n' {
					ok = s.literal("null")
					t.MessageOnUnknownSolution = ""
				} else {
					t.MessageOnUnknownSolution, ok = s.str()
				}
			case "reserved_for":
				field = fReservedFor
				t.ReservedFor, ok = s.strings()
			case "unavailable_for":
				field = fUnavailableFor
				t.UnavailableFor, ok = s.strings()
			case "traits_all_of":
				field = fTraitsAllOf
				t.TraitsAllOf, ok = s.strings()
			case "traits_any_of":
				field = fTraitsAnyOf
				t.TraitsAnyOf, ok = s.strings()
			case "traits_none_of_any":
				field = fTraitsNoneOfAny
				t.TraitsNoneOfAny, ok = s.strings()
			case "overlap":
				if s.peek() == 'n' {
					ok, count = s.literal("null"), nil
					break
				}
				var n string
				n, ok = s.number()
				if ok {
					v, err := strconv.ParseInt(n, 10, 64)
					ok, count = err == nil, &v
				}
			case "infinite_overlap":
				switch s.peek() {
				case 'n':
					ok, infinite = s.literal("null"), nil
				case 't':
					ok, infinite = s.literal("true"), toloka.Ptr(true)
				default:
					ok, infinite = s.literal("false"), toloka.Ptr(false)
				}
			default:
				if isSlowTaskKey(k) || foldsToKnownKey(k) {
					return false
				}
				_, ok = s.value() // unknown keys (toloka-kit's __item_idx) are read and dropped
			}
			if !ok {
				return false
			}
			if field >= 0 {
				spans[field] = [2]uint32{uint32(start), uint32(s.pos)}
				if raw[start] == 'n' { // null: render nothing
					spans[field] = [2]uint32{}
				}
			}
			if s.eat('}') {
				break
			}
			if !s.eat(',') {
				return false
			}
		}
	}
	s.ws()
	if s.pos != len(raw) {
		return false
	}
	t.Overlap = overlapOf(count, infinite)
	return true
}

// overlapOf mirrors the SDK's decoding of the overlap pair (toloka-api.md §4.3).
func overlapOf(count *int64, infinite *bool) toloka.Overlap {
	switch {
	case infinite != nil && *infinite:
		return toloka.InfiniteOverlap()
	case count != nil:
		return toloka.FiniteOverlap(*count)
	}
	return toloka.Overlap{}
}

// foldsToKnownKey reports a key that encoding/json would match to a task
// field case-insensitively.
func foldsToKnownKey(k string) bool {
	for _, name := range fastFieldNames() {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	for _, name := range [...]string{"overlap", "infinite_overlap", "id", "localization_config", "origin_task_id", "created", "remaining_overlap"} {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// appendTaskFast writes a task from the raw spans of its request item.
func appendTaskFast(b []byte, raw []byte, spans *taskSpans, prefix string, seq uint64, count *int64, infinite bool, created string) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, prefix...)
	b = append(b, '-', '-', nibbleTask)
	b = appendHex(b, seq, 23)
	b = append(b, '"')
	names := fastFieldNames()
	for f := 0; f < numFastFields; f++ {
		sp := spans[f]
		if sp[1] == 0 {
			continue
		}
		b = append(b, ',', '"')
		b = append(b, names[f]...)
		b = append(b, '"', ':')
		b = append(b, raw[sp[0]:sp[1]]...)
	}
	if infinite {
		b = append(b, `,"overlap":null,"infinite_overlap":true`...)
	} else {
		b = append(b, `,"overlap":`...)
		b = strconv.AppendInt(b, *count, 10)
		b = append(b, `,"infinite_overlap":false,"remaining_overlap":`...)
		b = strconv.AppendInt(b, *count, 10)
	}
	b = append(b, `,"created":`...)
	b = append(b, created...)
	return append(b, '}')
}
