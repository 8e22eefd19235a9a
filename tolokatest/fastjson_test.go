package tolokatest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotoloka/toloka"
)

// The fast path must read exactly what encoding/json reads, or give up.
func TestDecodeTaskFastMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		raw  string
		fast bool
	}{
		{"plain", `{"pool_id":"21","input_values":{"image":"http://x/1.png","n":12345678901234567890,"f":1.5e3,"b":true,"z":null,"a":[1,"x",{}],"o":{"k":[]}},"overlap":3,"infinite_overlap":false}`, true},
		{"whitespace", " {\n \"pool_id\" : \"21\" ,\t\"input_values\" : { } } ", true},
		{"infinite", `{"pool_id":"21","input_values":{"a":"b"},"overlap":null,"infinite_overlap":true}`, true},
		{"solutions", `{"pool_id":"21","input_values":{"a":"b"},"known_solutions":[{"output_values":{"r":"OK"},"correctness_weight":0.8},{"output_values":{"r":"NO"}}],"baseline_solutions":[{"output_values":{"r":"OK"},"confidence_weight":1}],"message_on_unknown_solution":"hint"}`, true},
		{"lists", `{"pool_id":"21","input_values":{},"reserved_for":["a","b"],"unavailable_for":[],"traits_all_of":["t"],"traits_any_of":null,"traits_none_of_any":["u"]}`, true},
		{"unknown key dropped", `{"__item_idx":"7","pool_id":"21","input_values":{"a":1},"extra":{"deep":[1,2,{"x":null}]}}`, true},
		{"duplicate key, last wins", `{"pool_id":"1","pool_id":"2","input_values":{"a":1},"input_values":{"b":2}}`, true},
		{"nulls", `{"pool_id":null,"input_values":null,"message_on_unknown_solution":null,"known_solutions":null}`, true},
		{"escape goes slow", `{"pool_id":"21","input_values":{"a":"line\nbreak"}}`, false},
		{"unicode goes slow", `{"pool_id":"21","input_values":{"a":"café"}}`, false},
		{"case-folded key goes slow", `{"Pool_ID":"21","input_values":{}}`, false},
		{"read-only key goes slow", `{"id":"x","pool_id":"21","input_values":{}}`, false},
		{"fractional overlap goes slow", `{"pool_id":"21","overlap":2.5}`, false},
		{"bad json goes slow", `{"pool_id":"21",}`, false},
		{"trailing garbage goes slow", `{"pool_id":"21"} x`, false},
		{"solution extra key goes slow", `{"pool_id":"21","known_solutions":[{"output_values":{},"x":1}]}`, false},
		{"bad number goes slow", `{"pool_id":"21","input_values":{"a":01}}`, false},
		{"bad literal goes slow", `{"pool_id":"21","input_values":{"a":tru}}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var fast toloka.Task
			var spans taskSpans
			ok := decodeTaskFast([]byte(tc.raw), tc.raw, &fast, &spans)
			require.Equal(t, tc.fast, ok)
			if !ok {
				return
			}
			var slow toloka.Task
			require.NoError(t, json.Unmarshal([]byte(tc.raw), &slow))
			assert.Equal(t, slow, fast)
		})
	}
}

// The spliced rendering decodes to the same task as the encoding/json one.
func TestAppendTaskFastMatchesView(t *testing.T) {
	t.Parallel()
	raw := `{"__item_idx":"3","pool_id":"21","input_values":{"image":"http://x/1.png","n":7},"known_solutions":[{"output_values":{"r":"OK"},"correctness_weight":0.5}],"message_on_unknown_solution":"m","reserved_for":["w1"],"overlap":4}`
	var task toloka.Task
	var spans taskSpans
	require.True(t, decodeTaskFast([]byte(raw), raw, &task, &spans))
	now := toloka.Timestamp{}
	ts, err := toloka.ParseTimestamp("2024-01-02T03:04:05.678")
	require.NoError(t, err)
	now = ts
	created, _ := now.MarshalJSON()
	count := int64(4)
	fast := appendTaskFast(nil, []byte(raw), &spans, "0000000015", 9, &count, false, string(created))
	view, err := json.Marshal(taskViewOf(&task, makeID("0000000015", nibbleTask, 9), &count, false, now))
	require.NoError(t, err)
	var a, b toloka.Task
	require.NoError(t, json.Unmarshal(fast, &a))
	require.NoError(t, json.Unmarshal(view, &b))
	assert.Equal(t, b, a)
	assert.NotContains(t, string(fast), "__item_idx")
	assert.Equal(t, "0000000015--000000000000000000000009", a.ID)

	inf := appendTaskFast(nil, []byte(raw), &spans, "0000000015", 9, nil, true, string(created))
	var c toloka.Task
	require.NoError(t, json.Unmarshal(inf, &c))
	assert.True(t, c.Overlap.IsInfinite())
}

func FuzzDecodeTaskFast(f *testing.F) {
	f.Add(`{"pool_id":"21","input_values":{"a":[1,{"b":null}]},"overlap":3}`)
	f.Add(`{"known_solutions":[{"output_values":{"r":"x"},"correctness_weight":1e-3}]}`)
	f.Add(`{"infinite_overlap":true,"x":"y"}`)
	f.Fuzz(func(t *testing.T, raw string) {
		var fast toloka.Task
		var spans taskSpans
		if !decodeTaskFast([]byte(raw), raw, &fast, &spans) {
			return
		}
		var slow toloka.Task
		if err := json.Unmarshal([]byte(raw), &slow); err != nil {
			t.Fatalf("fast path accepted what encoding/json refuses: %v", err)
		}
		assert.Equal(t, slow, fast)
	})
}

func TestSplitBody(t *testing.T) {
	t.Parallel()
	raws, single, e := splitBody([]byte(` [ {"a":"],}"} , {"b":[1,2]},{} ] `))
	require.Nil(t, e)
	assert.False(t, single)
	require.Len(t, raws, 3)
	assert.Equal(t, `{"a":"],}"}`, string(raws[0]))
	assert.Equal(t, `{"b":[1,2]}`, string(raws[1]))
	assert.Equal(t, `{}`, string(raws[2]))

	raws, single, e = splitBody([]byte(`{"a":1}`))
	require.Nil(t, e)
	assert.True(t, single)
	assert.Len(t, raws, 1)

	raws, _, e = splitBody([]byte(`[]`))
	require.Nil(t, e)
	assert.Empty(t, raws)

	for _, bad := range []string{``, `null`, `"x"`, `[{"a":1}`, `[{}]]`, `[{}] x`} {
		_, _, e := splitBody([]byte(bad))
		assert.NotNil(t, e, bad)
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "000248a756", poolPrefix("38315862"))
	assert.Len(t, poolPrefix("not-a-number"), 10)
	id := makeID(poolPrefix("21"), nibbleTask, 42)
	assert.Len(t, id, idLen)
	nib, seq, ok := parseID(id)
	assert.True(t, ok)
	assert.Equal(t, byte(nibbleTask), nib)
	assert.Equal(t, uint64(42), seq)
	inside := makeInsideID(poolPrefix("21"), 5, 3)
	nib, seq, ok = parseID(inside)
	assert.True(t, ok)
	assert.Equal(t, byte(nibbleInside), nib)
	assert.Equal(t, uint64(5), seq)
	assert.Less(t, makeID("0000000015", nibbleTask, 9), makeID("0000000015", nibbleTask, 10))
	_, _, ok = parseID("garbage")
	assert.False(t, ok)
	assert.True(t, isUUID("281073ea-ab34-416e-a028-47421ff1b166"))
	assert.False(t, isUUID("281073ea-ab34-416e-a028-47421ff1b16"))
	assert.False(t, isUUID("281073eaxab34-416e-a028-47421ff1b166"))
	assert.True(t, isUUID(requestID(1, 2)))
}
