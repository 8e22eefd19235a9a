package toloka

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requestValuesSize is what the values take in a request body (no HTML
// escaping), validate.go's measure.
func requestValuesSize(t *testing.T, v Values) int {
	t.Helper()
	if len(v) == 0 {
		return 0
	}
	data, err := marshalJSON(v)
	require.NoError(t, err)
	assert.Equal(t, len(data), valuesSize(v), "validation measures the same bytes")
	return len(data)
}

func TestValueSizesMatchValidation(t *testing.T) {
	t.Parallel()
	odd := Values{
		"url":    "https://example.com/?a=1&b=<2>",
		"quote":  `say "hi" \ back`,
		"nested": map[string]any{"input_values": "user data, not ours", "output_values": []any{1, "}", "]"}},
		"uni":    "line\u2028sep ünï 日本",
		"num":    json.Number("12345678901234567890"),
		"null":   nil,
		"list":   []any{true, false, 1.5, map[string]any{}},
	}
	tasks := []Task{
		imageTask(1),
		{PoolID: `p"&<`, InputValues: odd, Overlap: InfiniteOverlap(),
			KnownSolutions:           []KnownSolution{{OutputValues: Values{"a": "x&y"}}, {OutputValues: odd}},
			BaselineSolutions:        []BaselineSolution{{OutputValues: Values{"b": "<b>"}, ConfidenceWeight: Ptr(0.5)}},
			MessageOnUnknownSolution: `"input_values":{"fake":1}`,
			ReservedFor:              []string{"w1"}},
		{PoolID: "1"}, // nil values count 0, like validation
	}
	for i, task := range tasks {
		encoded, err := task.MarshalJSON()
		require.NoError(t, err)
		in, out, err := valueSizes(encoded)
		require.NoError(t, err, "task %d", i)
		wantOut := 0
		for _, ks := range task.KnownSolutions {
			wantOut += requestValuesSize(t, ks.OutputValues)
		}
		for _, bs := range task.BaselineSolutions {
			wantOut += requestValuesSize(t, bs.OutputValues)
		}
		assert.Equal(t, requestValuesSize(t, task.InputValues), in, "task %d input", i)
		assert.Equal(t, wantOut, out, "task %d output", i)
	}

	suite := TaskSuite{PoolID: "1", Tasks: []SuiteTask{
		{InputValues: odd, KnownSolutions: []KnownSolution{{OutputValues: Values{"r": "&"}}}},
		{InputValues: Values{"image": "<img>"}, MessageOnUnknownSolution: "hint"},
	}}
	encoded, err := suite.MarshalJSON()
	require.NoError(t, err)
	in, out, err := valueSizes(encoded)
	require.NoError(t, err)
	assert.Equal(t, requestValuesSize(t, odd)+requestValuesSize(t, Values{"image": "<img>"}), in)
	assert.Equal(t, requestValuesSize(t, Values{"r": "&"}), out)
}

func TestValueSizesRejectsWhatIsNotAnObject(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{``, `[]`, `{"a":`, `{"a":"x}`, `{"a":1]`, `{"a":1}x`, `{"a"`} {
		_, _, err := valueSizes([]byte(bad))
		assert.ErrorIs(t, err, errNotJSONObject, bad)
	}
}

func TestUploadBatchBodyMarkersAndPositions(t *testing.T) {
	t.Parallel()
	b := &uploadBatch{Ordinal: 2, OperationID: "op"}
	tasks := []Task{imageTask(0), imageTask(1), imageTask(2)}
	indexes := []int64{7, 12, 1000}
	for i, task := range tasks {
		enc, err := task.MarshalJSON()
		require.NoError(t, err)
		b.add(indexes[i], enc, 10, 1)
	}
	b.add(1001, []byte(`{}`), 0, 0)
	b.finish()

	var decoded []map[string]any
	require.NoError(t, json.Unmarshal(b.Body, &decoded))
	require.Len(t, decoded, 4)
	assert.Equal(t, "12", decoded[1][itemMarker])
	assert.Equal(t, "https://example.com/img/0000001.png", decoded[1]["input_values"].(map[string]any)["image"])
	assert.Equal(t, map[string]any{itemMarker: "1001"}, decoded[3])
	assert.Equal(t, 30, b.inputBytes)
	assert.Equal(t, 3, b.outputBytes)

	for pos, idx := range b.Indexes {
		got, ok := b.Position(int(idx))
		require.True(t, ok)
		assert.Equal(t, pos, got)
	}
	for _, missing := range []int{8, -1, 1002, 0} {
		_, ok := b.Position(missing)
		assert.False(t, ok, missing)
	}

	b.keep(func(pos int) bool { return pos != 1 })
	require.NoError(t, json.Unmarshal(b.Body, &decoded))
	assert.Equal(t, []int64{7, 1000, 1001}, b.Indexes)
	require.Len(t, decoded, 3)
	assert.Equal(t, "1000", decoded[1][itemMarker])
	pos, ok := b.Position(1000)
	assert.True(t, ok)
	assert.Equal(t, 1, pos)
	assert.Equal(t, "op", b.OperationID)
	assert.Equal(t, 2, b.Ordinal)

	b.keep(func(int) bool { return false })
	assert.Zero(t, b.Len())
	assert.Empty(t, b.Body)
}

func TestUploadBatchFits(t *testing.T) {
	t.Parallel()
	b := &uploadBatch{}
	assert.True(t, b.fits(1, MaxInputValuesBytes, MaxOutputValuesBytes), "an item exactly at both budgets fits an empty batch")
	b.add(0, []byte(`{}`), MaxInputValuesBytes-5, 0)
	assert.True(t, b.fits(2, 5, 0))
	assert.False(t, b.fits(2, 6, 0))
	assert.False(t, b.fits(1, 0, 0), "count")
	assert.False(t, b.fits(2, 0, MaxOutputValuesBytes+1))
}
