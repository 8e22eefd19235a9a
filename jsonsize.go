package toloka

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// valuesSize is the number of bytes values take in a request body, as
// encodeJSON writes them (no HTML escaping). It walks the common types
// directly instead of encoding, which made byte-budget checks the largest
// cost of validation; other types are encoded. A value JSON cannot carry
// (NaN, ±Inf, a channel, ...) makes the result negative: see unencodable.
func valuesSize(values Values) int {
	return jsonSize(map[string]any(values))
}

// unencodable is the size of a value encoding/json refuses. It is so
// negative that no sum of real sizes can bring a total containing it back
// above zero.
const unencodable = -1 << 40

// unencodableKey returns the first key (in sorted order) of values whose
// value JSON cannot carry, for the error message.
func unencodableKey(values Values) string {
	bad := ""
	for k, e := range values {
		if jsonSize(e) < 0 && (bad == "" || k < bad) {
			bad = k
		}
	}
	return bad
}

func jsonSize(v any) int {
	switch x := v.(type) {
	case nil:
		return 4
	case string:
		return stringSize(x)
	case bool:
		if x {
			return 4
		}
		return 5
	case json.Number:
		if x == "" {
			return 1 // encoding/json writes an empty Number as 0
		}
		return len(x)
	case float64:
		return floatSize(x, 64)
	case float32:
		return floatSize(float64(x), 32)
	case int:
		return intSize(int64(x))
	case int64:
		return intSize(x)
	case int32:
		return intSize(int64(x))
	case uint64:
		return len(strconv.AppendUint(make([]byte, 0, 24), x, 10))
	case map[string]any:
		if x == nil {
			return 4
		}
		n := 2 + len(x) - 1 // braces and commas
		if len(x) == 0 {
			n = 2
		}
		for k, e := range x {
			n += stringSize(k) + 1 + jsonSize(e)
		}
		return n
	case Values:
		return jsonSize(map[string]any(x))
	case []any:
		if x == nil {
			return 4
		}
		n := 2
		for k, e := range x {
			if k > 0 {
				n++
			}
			n += jsonSize(e)
		}
		return n
	case []string:
		if x == nil {
			return 4
		}
		n := 2
		for k, e := range x {
			if k > 0 {
				n++
			}
			n += stringSize(e)
		}
		return n
	}
	data, err := encodeJSON(v)
	if err != nil {
		return unencodable
	}
	return len(data)
}

func intSize(x int64) int {
	var buf [24]byte
	return len(strconv.AppendInt(buf[:0], x, 10))
}

// floatSize follows encoding/json's float encoder: 'f' format except for
// very small or large magnitudes, which use 'e' with a trimmed exponent.
func floatSize(f float64, bits int) int {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return unencodable
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], f, format, -1, bits)
	n := len(b)
	if format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		n-- // e-07 is written e-7
	}
	return n
}

// stringSize is the length of s as a JSON string without HTML escaping:
// quotes, two-byte escapes, \u00XX for other control bytes, \ufffd for each
// invalid byte, and \u2028 / \u2029 escaped.
func stringSize(s string) int {
	n := 2
	for k := 0; k < len(s); {
		c := s[k]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			k++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[k:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += 6
		case r == '\u2028' || r == '\u2029':
			n += 6
		default:
			n += size
		}
		k += size
	}
	return n
}
