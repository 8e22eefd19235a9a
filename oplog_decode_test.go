package toloka

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// logEntrySeeds are entries whose decoding must equal encoding/json's: case
// folded and escaped keys, repeated keys, nulls, nesting with brackets and
// quotes inside strings, white space.
func logEntrySeeds() []string {
	return []string{
		`{"type":"TASK_CREATE","success":true,"input":{"__item_idx":"0","pool_id":"1"},"output":{"task_id":"t1"}}`,
		`{"type":"A","input":null,"output":null,"success":null}`,
		`{"TYPE":"TASK_CREATE","Success":true,"INPUT":{"a":1}}`,
		`{"type":"X","type":"TASK_CREATE","success":false,"success":true}`,
		`{"ty\u0070e":"T\u0041SK","extra":[1,{"a":"}"}],"input":"s\"}"}`,
		`{}`,
		"{\"\u017fuccess\":true,\"\u212a\":1}",
		` { "type" : "A" , "success" : true , "output" : [ 1 , 2 ] } `,
		`{"type":"POOL_OPEN","success":false,"output":{"code":"EMPTY_POOL","message":"\\"}"}}`,
	}
}

// FuzzDecodeLogEntry keeps decodeLog's entry decoding equal to
// encoding/json's into OperationLogEntry, errors included.
func FuzzDecodeLogEntry(f *testing.F) {
	for _, s := range logEntrySeeds() {
		f.Add(s)
	}
	f.Add(`{"type":1}`)
	f.Add(`{"success":"yes"}`)
	f.Add(`{"type":"A"`)
	f.Fuzz(func(t *testing.T, body string) {
		if trimmed := bytes.TrimLeft([]byte(body), " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
			return // decodeLog's framing of non-objects is tested elsewhere
		}
		var want OperationLogEntry
		dec := json.NewDecoder(strings.NewReader(body))
		wantErr := dec.Decode(&want)
		if wantErr == nil && strings.Trim(body[dec.InputOffset():], " \t\r\n") != "" {
			return // more after the entry: the array framing's business
		}
		for _, reuse := range []bool{false, true} {
			var got OperationLogEntry
			n := 0
			err := decodeLog(bytes.NewReader([]byte("["+body+"]")), reuse, func(e *OperationLogEntry) error {
				got = OperationLogEntry{Type: e.Type, Success: e.Success, Input: bytes.Clone(e.Input), Output: bytes.Clone(e.Output)}
				n++
				return nil
			})
			if wantErr != nil {
				require.Error(t, err, "%s", body)
				continue
			}
			require.NoError(t, err, "%s", body)
			require.Equal(t, 1, n)
			require.Equal(t, want.Type, got.Type)
			require.Equal(t, want.Success, got.Success)
			require.Equal(t, string(want.Input), string(got.Input))
			require.Equal(t, string(want.Output), string(got.Output))
		}
	})
}

func TestDecodeLogFraming(t *testing.T) {
	t.Parallel()
	entry := `{"type":"TASK_CREATE","success":true}`
	for body, want := range map[string]string{
		"[" + entry + "," + entry + "]":      "",
		"[ " + entry + " ,\n" + entry + " ]": "",
		"[" + entry + " " + entry + "]":      "want ',' or ']'",
		"[" + entry + ",]":                   "want a JSON object",
		"[1]":                                "want a JSON object",
		"[" + entry + ",":                    "unexpected EOF",
		"[" + `{"type":"A","x":[}` + "]":     "decoding log entry 0",
	} {
		n := 0
		err := decodeLog(bytes.NewReader([]byte(body)), true, func(*OperationLogEntry) error { n++; return nil })
		if want == "" {
			require.NoError(t, err, body)
			require.Equal(t, 2, n, body)
			continue
		}
		require.ErrorContains(t, err, want, body)
	}
}
