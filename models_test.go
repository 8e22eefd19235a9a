package toloka

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOverlapEncodings(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		overlap Overlap
		want    string
	}{
		"finite":   {FiniteOverlap(3), `{"pool_id":"1","input_values":{"a":"b"},"overlap":3,"infinite_overlap":false}`},
		"infinite": {InfiniteOverlap(), `{"pool_id":"1","input_values":{"a":"b"},"overlap":null,"infinite_overlap":true}`},
		"unset":    {Overlap{}, `{"pool_id":"1","input_values":{"a":"b"}}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := json.Marshal(Task{PoolID: "1", InputValues: Values{"a": "b"}, Overlap: tc.overlap})
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(data))

			suite, err := json.Marshal(TaskSuite{PoolID: "1", Tasks: []SuiteTask{{InputValues: Values{"a": "b"}}}, Overlap: tc.overlap})
			require.NoError(t, err)
			var m map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(suite, &m))
			var want map[string]json.RawMessage
			require.NoError(t, json.Unmarshal([]byte(tc.want), &want))
			assert.Equal(t, want["overlap"], m["overlap"])
			assert.Equal(t, want["infinite_overlap"], m["infinite_overlap"])
		})
	}
}

func TestOverlapDecoding(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		json     string
		set, inf bool
		count    int64
	}{
		"finite":             {`{"overlap":5,"infinite_overlap":false}`, true, false, 5},
		"finite, no flag":    {`{"overlap":5}`, true, false, 5},
		"infinite":           {`{"overlap":null,"infinite_overlap":true}`, true, true, 0},
		"infinite, no count": {`{"infinite_overlap":true}`, true, true, 0},
		"absent":             {`{}`, false, false, 0},
		"only false flag":    {`{"infinite_overlap":false}`, false, false, 0},
	}
	for name, tc := range cases {
		var task Task
		require.NoError(t, json.Unmarshal([]byte(tc.json), &task), name)
		assert.Equal(t, tc.set, task.Overlap.IsSet(), name)
		assert.Equal(t, tc.inf, task.Overlap.IsInfinite(), name)
		n, ok := task.Overlap.Count()
		assert.Equal(t, tc.count, n, name)
		assert.Equal(t, tc.set && !tc.inf, ok, name)
	}
	assert.Equal(t, "unset", Overlap{}.String())
	assert.Equal(t, "infinite", InfiniteOverlap().String())
	assert.Equal(t, "7", FiniteOverlap(7).String())
}

func TestReadOnlyFieldsAreDecodedButNeverSent(t *testing.T) {
	t.Parallel()
	// The documented single-task response (toloka-api.md §10.1) plus an unknown field.
	body := `{
	  "id": "000248a756--6422ca21e5997032541d856b",
	  "created": "2023-03-28T11:06:09.827",
	  "pool_id": "38315862",
	  "input_values": { "image_url": "https://example.com/image1.jpg" },
	  "known_solutions": [ { "output_values": { "result": "OK", "like": false }, "correctness_weight": 0.8 } ],
	  "baseline_solutions": [ { "output_values": { "result": "OK", "like": true }, "confidence_weight": 1 } ],
	  "message_on_unknown_solution": "The cat is in a good mood.",
	  "overlap": 3, "infinite_overlap": false, "remaining_overlap": 2,
	  "origin_task_id": "000248a756--000000000000000000000001",
	  "reserved_for": ["w1"], "unavailable_for": [],
	  "something_new": {"x": 1}
	}`
	var task Task
	require.NoError(t, json.Unmarshal([]byte(body), &task))
	assert.Equal(t, "000248a756--6422ca21e5997032541d856b", task.ID)
	assert.Equal(t, time.Date(2023, 3, 28, 11, 6, 9, 827e6, time.UTC), task.Created.Time)
	require.NotNil(t, task.RemainingOverlap)
	assert.EqualValues(t, 2, *task.RemainingOverlap)
	assert.Equal(t, "000248a756--000000000000000000000001", task.OriginTaskID)
	assert.Equal(t, 0.8, *task.KnownSolutions[0].CorrectnessWeight)
	assert.Equal(t, 1.0, *task.BaselineSolutions[0].ConfidenceWeight)
	assert.Equal(t, []string{"w1"}, task.ReservedFor)

	sent, err := json.Marshal(task)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(sent, &fields))
	for _, readOnly := range []string{"id", "created", "remaining_overlap", "origin_task_id"} {
		assert.NotContains(t, fields, readOnly)
	}
	assert.Contains(t, fields, "known_solutions")
	assert.Contains(t, fields, "baseline_solutions")
	assert.Equal(t, "The cat is in a good mood.", fields["message_on_unknown_solution"])
}

func TestSuiteReadOnlyFieldsAreDecodedButNeverSent(t *testing.T) {
	t.Parallel()
	// The response shape of toloka-api.md §10.6.
	body := `{
	  "id": "00022cfa46--637cf41c9376542ef7b52bde", "pool_id": "1238218",
	  "tasks": [
	    { "id": "00022cfa46--637cf3f76e13181a0164e729", "input_values": { "image_url": "https://example.com/image1.png" },
	      "known_solutions": [ { "output_values": { "color": "black" }, "correctness_weight": 0.95 } ],
	      "message_on_unknown_solution": "The elephant is black", "origin_task_id": "x" },
	    { "id": "00022cfa46--637cf3ed6e13181a0164e5a2", "input_values": { "image_url": "https://example.com/image2.png" } }
	  ],
	  "overlap": 3, "infinite_overlap": false, "reserved_for": [], "unavailable_for": [],
	  "issuing_order_override": 3, "mixed": false, "automerged": true,
	  "latitude": 55.7, "longitude": 37.6,
	  "created": "2022-11-22T16:09:00.308", "remaining_overlap": 3
	}`
	var suite TaskSuite
	require.NoError(t, json.Unmarshal([]byte(body), &suite))
	assert.Equal(t, "00022cfa46--637cf41c9376542ef7b52bde", suite.ID)
	assert.True(t, suite.Automerged)
	assert.Equal(t, "00022cfa46--637cf3f76e13181a0164e729", suite.Tasks[0].ID)
	assert.Equal(t, "x", suite.Tasks[0].OriginTaskID)
	assert.Equal(t, 3.0, *suite.IssuingOrderOverride)
	assert.False(t, *suite.Mixed)
	assert.Equal(t, 55.7, *suite.Latitude)
	n, _ := suite.Overlap.Count()
	assert.EqualValues(t, 3, n)

	sent, err := json.Marshal(suite)
	require.NoError(t, err)
	assert.JSONEq(t, `{
	  "pool_id": "1238218",
	  "tasks": [
	    { "input_values": { "image_url": "https://example.com/image1.png" },
	      "known_solutions": [ { "output_values": { "color": "black" }, "correctness_weight": 0.95 } ],
	      "message_on_unknown_solution": "The elephant is black" },
	    { "input_values": { "image_url": "https://example.com/image2.png" } }
	  ],
	  "overlap": 3, "infinite_overlap": false,
	  "issuing_order_override": 3, "mixed": false, "latitude": 55.7, "longitude": 37.6
	}`, string(sent))
}

func TestValuesKeepNumberPrecision(t *testing.T) {
	t.Parallel()
	body := `{"pool_id":"1","input_values":{"big":12345678901234567890,"float":0.1000000000000000055511151231257827,"nested":{"n":9007199254740993}},"overlap":1}`
	var task Task
	require.NoError(t, json.Unmarshal([]byte(body), &task))
	assert.Equal(t, json.Number("12345678901234567890"), task.InputValues["big"])
	out, err := json.Marshal(task)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"big":12345678901234567890`)
	assert.Contains(t, string(out), `"float":0.1000000000000000055511151231257827`)
	assert.Contains(t, string(out), `"n":9007199254740993`)

	var v Values
	require.NoError(t, json.Unmarshal([]byte("null"), &v))
	assert.Nil(t, v)
	require.Error(t, json.Unmarshal([]byte(`[1]`), &v))
}

func TestTimestamps(t *testing.T) {
	t.Parallel()
	cases := map[string]time.Time{
		`"2016-09-29T18:04:00"`:           time.Date(2016, 9, 29, 18, 4, 0, 0, time.UTC),
		`"2023-03-28T11:06:09.827"`:       time.Date(2023, 3, 28, 11, 6, 9, 827e6, time.UTC),
		`"2023-03-28T11:06:09.82712"`:     time.Date(2023, 3, 28, 11, 6, 9, 827120e3, time.UTC),
		`"2023-03-28T11:06:09.123456789"`: time.Date(2023, 3, 28, 11, 6, 9, 123456789, time.UTC),
		`"2023-03-28T11:06:09.8"`:         time.Date(2023, 3, 28, 11, 6, 9, 8e8, time.UTC),
		`"2023-03-28T11:06:09Z"`:          time.Date(2023, 3, 28, 11, 6, 9, 0, time.UTC),
		`"2023-03-28T14:06:09.5+03:00"`:   time.Date(2023, 3, 28, 11, 6, 9, 5e8, time.UTC),
		`"2022-12-01"`:                    time.Date(2022, 12, 1, 0, 0, 0, 0, time.UTC),
		`null`:                            {},
		`""`:                              {},
		`" 2016-09-29T18:04:00 "`:         time.Date(2016, 9, 29, 18, 4, 0, 0, time.UTC),
		`"2016-09-29T18:04:00.000000000"`: time.Date(2016, 9, 29, 18, 4, 0, 0, time.UTC),
		`"2016-02-29T23:59:59.999999999"`: time.Date(2016, 2, 29, 23, 59, 59, 999999999, time.UTC),
	}
	for in, want := range cases {
		var ts Timestamp
		require.NoError(t, json.Unmarshal([]byte(in), &ts), in)
		assert.True(t, want.Equal(ts.Time), "%s: got %v", in, ts.Time)
		if !want.IsZero() {
			assert.Equal(t, time.UTC, ts.Location(), in)
		}
	}
	for _, bad := range []string{`5`, `"yesterday"`, `"2016-13-01T00:00:00"`, `{}`} {
		var ts Timestamp
		require.Error(t, json.Unmarshal([]byte(bad), &ts), bad)
	}

	enc := map[string]Timestamp{
		`"2016-09-29T18:04:00"`:       {time.Date(2016, 9, 29, 18, 4, 0, 0, time.UTC)},
		`"2023-03-28T11:06:09.827"`:   {time.Date(2023, 3, 28, 11, 6, 9, 827e6, time.UTC)},
		`"2023-03-28T08:06:09.00001"`: {time.Date(2023, 3, 28, 11, 6, 9, 10e3, time.FixedZone("MSK", 3*3600))},
		`null`:                        {},
	}
	for want, ts := range enc {
		got, err := json.Marshal(ts)
		require.NoError(t, err)
		assert.Equal(t, want, string(got))
	}
}

func TestFieldSpecRequiredDefaultsToTrue(t *testing.T) {
	t.Parallel()
	var spec TaskSpec
	require.NoError(t, json.Unmarshal([]byte(`{"input_spec":{"a":{"type":"url"},"b":{"type":"string","required":false,"max_length":3}},"output_spec":{}}`), &spec))
	assert.True(t, spec.InputSpec["a"].Required)
	assert.False(t, spec.InputSpec["b"].Required)
	assert.Equal(t, 3, *spec.InputSpec["b"].MaxLength)
}

func TestPoolDecoding(t *testing.T) {
	t.Parallel()
	// toloka-api.md §10.8.
	body := `{
	  "id": "32267581", "project_id": "81776", "status": "OPEN", "reward_per_assignment": 0.07,
	  "assignments_issuing_config": { "issue_task_suites_in_creation_order": false },
	  "defaults": { "default_overlap_for_new_task_suites": 3, "default_overlap_for_new_tasks": 3 },
	  "mixer_config": {
	    "real_tasks_count": 6, "golden_tasks_count": 1, "training_tasks_count": 0,
	    "min_real_tasks_count": 2, "min_golden_tasks_count": 0, "min_training_tasks_count": 0,
	    "force_last_assignment": true, "force_last_assignment_delay_seconds": 10,
	    "mix_tasks_in_creation_order": true, "shuffle_tasks_in_task_suite": false,
	    "golden_task_distribution_function": {
	      "scope": "PROJECT", "distribution": "UNIFORM", "window_days": 7,
	      "intervals": [ { "from": 1, "to": 25, "frequency": 5 }, { "from": 26, "to": 1000, "frequency": 25 } ]
	    }
	  },
	  "type": "REGULAR", "created": "2022-03-10T07:41:53.626", "unknown": true
	}`
	var p Pool
	require.NoError(t, json.Unmarshal([]byte(body), &p))
	assert.True(t, p.UsesSmartMixing())
	assert.True(t, p.MixerConfig.IssuesControlTasks())
	assert.False(t, p.MixerConfig.IssuesTrainingTasks())
	assert.EqualValues(t, 3, *p.Defaults.DefaultOverlapForNewTasks)
	assert.Equal(t, 25, p.MixerConfig.GoldenTaskDistributionFunction.Intervals[1].Frequency)
	assert.Equal(t, PoolOpen, p.Status)

	var plain Pool
	require.NoError(t, json.Unmarshal([]byte(`{"id":"1","training":true}`), &plain))
	assert.False(t, plain.UsesSmartMixing())
	assert.True(t, plain.Training)
}

func TestOperationCounters(t *testing.T) {
	t.Parallel()
	// toloka-api.md §10.4.
	var op Operation
	require.NoError(t, json.Unmarshal([]byte(`{
	  "id": "26e130ad3652443a3dc5094791e48ef9", "type": "TASK.BATCH_CREATE", "status": "FAIL",
	  "submitted": "2015-12-13T23:32:01", "started": "2015-12-13T23:33:00", "finished": "2015-12-13T23:34:12",
	  "progress": 100, "parameters": { "allow_defaults": false, "skip_invalid_items": false, "open_pool": false },
	  "details": { "total_count": 2, "valid_count": 1, "not_valid_count": 1, "success_count": 0, "failed_count": 2 }
	}`), &op))
	assert.True(t, op.IsTerminal())
	assert.Equal(t, OperationCounters{TotalCount: 2, ValidCount: 1, NotValidCount: 1, FailedCount: 2}, op.Counters())
	assert.Equal(t, 100, *op.Progress)

	other := Operation{Status: "QUEUED", Details: json.RawMessage(`{"items_count": 3}`)}
	assert.False(t, other.IsTerminal(), "unknown statuses are not terminal")
	assert.Equal(t, OperationCounters{}, other.Counters())
}

func TestTimestampTextForm(t *testing.T) {
	t.Parallel()
	ts := Timestamp{time.Date(2023, 3, 28, 11, 6, 9, 827e6, time.UTC)}
	text, err := ts.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "2023-03-28T11:06:09.827", string(text))
	keyed, err := json.Marshal(map[Timestamp]int{ts: 1})
	require.NoError(t, err)
	assert.JSONEq(t, `{"2023-03-28T11:06:09.827": 1}`, string(keyed), "map keys use the wire form")
	var back Timestamp
	require.NoError(t, back.UnmarshalText(text))
	assert.True(t, ts.Equal(back.Time))
	require.NoError(t, back.UnmarshalText(nil))
	assert.True(t, back.IsZero())
	assert.Error(t, back.UnmarshalText([]byte("soon")))
}
