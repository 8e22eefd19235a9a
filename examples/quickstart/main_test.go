package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/tolokatest"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// quickPolls keeps the async step's polling to microseconds.
var quickPolls = toloka.WaitOptions{FirstDelay: time.Microsecond, Interval: time.Microsecond, MaxInterval: time.Microsecond}

func TestQuickstartAgainstTheBuiltInFake(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, env(nil), quickPolls))
	got := out.String()
	assert.Contains(t, got, "using the in-memory fake Toloka")
	assert.Contains(t, got, "created task 0000000065--")
	assert.Contains(t, got, "created tasks[0] as ")
	assert.Contains(t, got, "created tasks[2] as ")
	assert.Contains(t, got, "rejected tasks[1].overlap: VALUE_LESS_THAN_MIN")
	syncPart, _, _ := strings.Cut(got, "== an async batch")
	assert.NotContains(t, syncPart, "created tasks[1]")
	assert.Contains(t, got, "created task_suites[0] as ")
	assert.Contains(t, got, "created task_suites[1] as ")
	assert.Regexp(t, `operation [0-9a-f-]{36}: RUNNING, 50% done\n`, got)
	assert.Regexp(t, `operation [0-9a-f-]{36}: SUCCESS, 100% done\n`, got)
	assert.Contains(t, got, "rejected tasks[2].input_values.image: INVALID_URL_SYNTAX")
	for _, i := range []string{"0", "1", "3"} {
		assert.Regexp(t, `(?m)^== an async batch[\s\S]*created tasks\[`+i+`\] as `, got)
	}
}

// With TOLOKA_API_KEY the quickstart talks to whatever TOLOKA_URL names;
// here a tolokatest server stands in for the sandbox.
func TestQuickstartWithAnAccount(t *testing.T) {
	t.Parallel()
	s := tolokatest.NewServerT(t, tolokatest.WithCredential("sandbox-key"))
	require.NoError(t, s.Seed(tolokatest.Fixtures{
		Projects: []toloka.Project{{ID: "5", TaskSpec: toloka.TaskSpec{InputSpec: map[string]toloka.FieldSpec{
			"text": {Type: "string", Required: true, MaxLength: toloka.Ptr(8)}, "n": {Type: "integer", Required: true, MinValue: ptrNumber("2")},
			"tags": {Type: "array_string", Required: true}, "opt": {Type: "url", Required: false},
		}}}},
		Pools: []toloka.Pool{{ID: "500", ProjectID: "5", MixerConfig: &toloka.MixerConfig{RealTasksCount: 1}}},
	}))
	var out bytes.Buffer
	err := run(context.Background(), &out, env(map[string]string{"TOLOKA_API_KEY": "sandbox-key", "TOLOKA_URL": s.URL(), "TOLOKA_POOL_ID": "500"}), quickPolls)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "task suites: skipped")
	tasks := s.Tasks("500")
	require.Len(t, tasks, 8, "2 single tasks, 2 of the batch and all 4 of the async batch (no url field to spoil)")
	assert.Len(t, tasks[0].InputValues["text"], 8, "values follow the spec")
	assert.NotContains(t, tasks[0].InputValues, "opt", "optional fields are left out")
}

func ptrNumber(s string) *json.Number { n := json.Number(s); return &n }

func TestQuickstartRefusesProduction(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := run(context.Background(), &out, env(map[string]string{"TOLOKA_API_KEY": "k"}), quickPolls)
	require.ErrorContains(t, err, "TOLOKA_ENV=sandbox")
	err = run(context.Background(), &out, env(map[string]string{"TOLOKA_API_KEY": "k", "TOLOKA_ENV": "sandbox"}), quickPolls)
	require.ErrorContains(t, err, "TOLOKA_POOL_ID")
}
