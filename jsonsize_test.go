package toloka

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// encodedLen is the reference: what encodeJSON writes for v.
func encodedLen(t *testing.T, v any) int {
	t.Helper()
	data, err := encodeJSON(v)
	require.NoError(t, err)
	return len(data)
}

func TestValuesSizeMatchesEncoding(t *testing.T) {
	t.Parallel()
	type point struct {
		X, Y int
	}
	cases := []Values{
		{},
		{"a": nil, "b": true, "c": false},
		{"s": "plain", "html": "<a href=\"x\">&</a>", "ctl": "\x00\x01\b\f\n\r\t\x1f\"\\", "uni": "héllo ✓ 𝄞", "bad": "\xff\xfe", "sep": "\u2028\u2029"},
		{"n": json.Number("12345678901234567890"), "empty": json.Number(""), "f": 0.1, "g": 1e21, "h": 1e-7, "i": -3.5e-10, "z": 0.0, "neg": math.Copysign(0, -1)},
		{"f32": float32(0.1), "f32e": float32(1e-7), "i": 42, "i64": int64(math.MinInt64), "i32": int32(-7), "u64": uint64(math.MaxUint64)},
		{"arr": []any{1, "two", nil, []any{}, map[string]any{}}, "ss": []string{"a", "b\n"}, "nilmap": map[string]any(nil), "nilarr": []any(nil), "nilss": []string(nil)},
		{"nested": map[string]any{"k\"ey": Values{"x": []any{1.5, "é"}}}},
		{"struct": point{1, 2}, "ptr": &point{3, 4}, "ints": []int{1, 2, 3}, "bytes": []byte("hi"), "time": Timestamp{time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)}, "raw": json.RawMessage(`{"a": 1}`)},
	}
	for _, v := range cases {
		assert.Equal(t, encodedLen(t, v), valuesSize(v), "%#v", v)
	}
}

func TestValuesSizeMatchesEncodingForRandomStrings(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", " ", "\"", "\\", "<", ">", "&", "\n", "\x00", "\x7f", "é", "✓", "𝄞", "\u2028", "\xff", "\xe2\x82", "\t"}
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		for n := rng.IntN(20); n > 0; n-- {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		f := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(50)-25))
		v := Values{b.String(): b.String(), "f": f, "i": rng.Int64() - rng.Int64()}
		require.Equal(t, encodedLen(t, v), valuesSize(v), "%q %v", b.String(), f)
	}
}

func TestValuesSizeOfUnencodable(t *testing.T) {
	t.Parallel()
	for _, v := range []any{math.NaN(), math.Inf(-1), make(chan int), []any{1, math.Inf(1)}, map[string]any{"a": []any{map[string]any{"b": math.NaN()}}}} {
		assert.Negative(t, jsonSize(v), "%v", v)
	}
	values := Values{"ok": strings.Repeat("x", 1<<20), "bad": math.NaN(), "also": make(chan int)}
	assert.Negative(t, valuesSize(values), "no amount of valid data hides a bad value")
	assert.Equal(t, "also", unencodableKey(values), "the first bad key in sorted order")
}

func TestClassify(t *testing.T) {
	t.Parallel()
	type obj struct{ A int }
	var nilPtr *obj
	cases := []struct {
		v        any
		kind     jkind
		integral bool
	}{
		{nil, jNull, false},
		{nilPtr, jNull, false},
		{[]int(nil), jNull, false},
		{map[string]int(nil), jNull, false},
		{"s", jString, false},
		{[]byte("b"), jString, false},
		{Timestamp{time.Now()}, jString, false},
		{true, jBool, false},
		{json.Number("3"), jNumber, true},
		{json.Number("3.0"), jNumber, true},
		{json.Number("3.5"), jNumber, false},
		{json.Number("1e400"), jNumber, false}, // beyond any integer field
		{json.Number("x"), jInvalid, false},
		{2.0, jNumber, true},
		{2.5, jNumber, false},
		{float32(2), jNumber, true},
		{uint8(2), jNumber, true},
		{&obj{}, jObject, false},
		{obj{}, jObject, false},
		{map[string]int{}, jObject, false},
		{[2]int{}, jArray, false},
		{[]obj{}, jArray, false},
		{json.RawMessage(`[1]`), jArray, false},
		{json.RawMessage(`{"a":1}`), jObject, false},
		{make(chan int), jInvalid, false},
	}
	for _, c := range cases {
		j := classify(c.v)
		assert.Equal(t, c.kind, j.kind, "%#v", c.v)
		if c.kind == jNumber {
			assert.Equal(t, c.integral, j.integral, "%#v", c.v)
		}
	}
}

func TestCoordinatesAndURLSyntax(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"53.910236,27.531110", "53.910236, 27.531110", " -1.5 , +2 ", "0,0", "1.,.5"} {
		assert.True(t, validCoordinates(ok), ok)
	}
	for _, bad := range []string{"", "53.9", "53.9;27.5", "53.9,27.5,1", "a,b", "1e5,2", ".,1", "[1,2]"} {
		assert.False(t, validCoordinates(bad), bad)
	}
	for _, ok := range []string{"http://x", "https://x", "www.example.com", "HTTPS://X"} {
		assert.True(t, validURL(ok), ok)
	}
	for _, bad := range []string{"", "ftp://x", "example.com", "//x", "http:/1.png"} {
		assert.False(t, validURL(bad), bad)
	}
}

func TestSpecEdgeCases(t *testing.T) {
	t.Parallel()
	// A project built in Go (Required is false unless set), with bounds,
	// an unknown array type and a pattern RE2 cannot compile.
	min, max := json.Number("1.5"), json.Number("2")
	prj := &Project{ID: "p", TaskSpec: TaskSpec{InputSpec: map[string]FieldSpec{
		"n":    {Type: "float", Required: true, MinValue: &min, MaxValue: &max, AllowedValues: []any{1.5, 2, "2"}},
		"arr":  {Type: "array_thing", MaxSize: Ptr(1)},
		"re":   {Type: "string", Pattern: `(?<=x)y`},
		"bool": {Type: "boolean", AllowedValues: []any{true}},
		"urls": {Type: "array_url"},
		"js":   {Type: "array_json"},
	}}}
	env := CheckEnv{AllowDefaults: true, Pools: map[string]*Pool{"1": {ID: "1", ProjectID: "p", MixerConfig: &MixerConfig{RealTasksCount: 1}, Defaults: &PoolDefaults{DefaultOverlapForNewTasks: Ptr(int64(1))}}}, Projects: map[string]*Project{"p": prj}}
	check := func(in Values) []string {
		var out []string
		for _, fe := range CheckTasks([]Task{{PoolID: "1", InputValues: in}}, env) {
			out = append(out, strings.TrimPrefix(fe.Field, "input_values.")+" "+fe.Code)
		}
		return out
	}
	assert.Empty(t, check(Values{"n": 2, "arr": []any{"anything"}, "re": "zzz", "bool": true, "urls": []string{"www.x"}, "js": []any{map[string]any{}}}))
	assert.Equal(t, []string{"n VALUE_NOT_ALLOWED"}, check(Values{"n": 1.75}))
	assert.Equal(t, []string{"n VALUE_LESS_THAN_MIN", "n VALUE_NOT_ALLOWED"}, check(Values{"n": 1}))
	assert.Equal(t, []string{"arr ARRAY_SIZE_GREATER_THAN_MAX"}, check(Values{"n": 2, "arr": []any{1, 2}}))
	assert.Equal(t, []string{"bool VALUE_NOT_ALLOWED"}, check(Values{"n": 2, "bool": false}))
	assert.Equal(t, []string{"urls.1 INVALID_URL_SYNTAX", "urls.2 VALUE_REQUIRED"}, check(Values{"n": 2, "urls": []any{"http://a", "b", nil}}))
	assert.Equal(t, []string{"js.0 OBJECT_EXPECTED"}, check(Values{"n": 2, "js": []any{[]any{}}}))
	assert.Equal(t, []string{"n VALUE_REQUIRED"}, check(Values{"arr": nil}))
}
