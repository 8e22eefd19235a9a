package jsonscan

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStructure(t *testing.T) {
	t.Parallel()
	text := `[{"a":"x}]\"{","b":[1,{}]},2]`
	var s Structure
	var structural []byte
	var depths []int
	for i := 0; i < len(text); i++ {
		if s.Step(text[i]) {
			structural = append(structural, text[i])
			depths = append(depths, s.Depth)
		}
	}
	assert.Equal(t, `[{":",":[1,{}]},2]`, string(structural), "nothing inside a string, escaped quotes included, is structural")
	assert.Equal(t, []int{1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 4, 3, 2, 1, 1, 1, 0}, depths)
	assert.Zero(t, s.Depth)
}

// Next finds the same bytes Step calls structural, across any split of the
// input into chunks.
func TestNextAgreesWithStep(t *testing.T) {
	t.Parallel()
	text := []byte(`[{"a":"x}]\\\"{","b":[1,{"c":"\\"}]},2]`)
	var want []int
	var s Structure
	for i, c := range text {
		if s.Step(c) {
			want = append(want, i)
		}
	}
	for chunk := 1; chunk <= len(text); chunk++ {
		var got []int
		var n Structure
		for start := 0; start < len(text); start += chunk {
			part := text[start:min(start+chunk, len(text))]
			for off := 0; ; {
				i := n.Next(part[off:])
				if i < 0 {
					break
				}
				got = append(got, start+off+i)
				off += i + 1
			}
		}
		assert.Equal(t, want, got, "chunks of %d", chunk)
		assert.Equal(t, s.Depth, n.Depth)
	}
}
