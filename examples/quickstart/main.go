// Command quickstart is the SDK's main job in one run: upload single tasks,
// a batch with one invalid task, task suites, and an async batch it waits
// for, then print what was created and what was rejected and why.
//
//	go run ./examples/quickstart
//
// With no TOLOKA_API_KEY it starts the in-memory fake Toloka (package
// tolokatest) with a demo project, a smart-mixing pool and a pool for task
// suites, so it runs on a fresh machine with no account. With TOLOKA_API_KEY
// it uploads to the pool named by TOLOKA_POOL_ID (a smart-mixing pool) and,
// when TOLOKA_SUITE_POOL_ID is set, suites to that pool (one without smart
// mixing). It refuses production: set TOLOKA_ENV=sandbox (or TOLOKA_URL).
// Input values are made up from the project's input spec.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/tolokatest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv, toloka.WaitOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// target is where the quickstart uploads.
type target struct {
	client    *toloka.Client
	pool      string // smart-mixing pool for tasks
	suitePool string // pool without smart mixing for suites; "" skips them
	wait      toloka.WaitOptions
	cleanup   func()
}

// run is the quickstart; wait tunes the polling of the async step (the zero
// value polls as the official SDKs do, which tests shorten).
func run(ctx context.Context, w io.Writer, getenv func(string) string, wait toloka.WaitOptions) error {
	tg, err := connect(w, getenv)
	if err != nil {
		return err
	}
	defer tg.cleanup()
	tg.wait = wait
	c := tg.client

	pool, err := c.GetPool(ctx, tg.pool)
	if err != nil {
		return fmt.Errorf("reading pool %s: %w", tg.pool, err)
	}
	project, err := c.GetProject(ctx, pool.ProjectID)
	if err != nil {
		return fmt.Errorf("reading project %s: %w", pool.ProjectID, err)
	}
	spec := project.TaskSpec.InputSpec
	fmt.Fprintf(w, "pool %s (project %s, smart mixing: %v)\n", pool.ID, project.ID, pool.UsesSmartMixing())

	// 1. Single tasks, one request each.
	fmt.Fprintln(w, "\n== single tasks (CreateTask)")
	for i := 0; i < 2; i++ {
		t, err := c.CreateTask(ctx, toloka.Task{PoolID: tg.pool, InputValues: sampleValues(spec, i), Overlap: toloka.FiniteOverlap(1)})
		if err != nil {
			return fmt.Errorf("creating a task: %w", err)
		}
		fmt.Fprintf(w, "created task %s with input %v\n", t.ID, t.InputValues)
	}

	// 2. A batch in which one task is invalid (overlap 0). SkipInvalidItems
	// creates the others; SkipValidation sends the batch as is, so that
	// Toloka itself judges it and reports the bad task by its index.
	fmt.Fprintln(w, "\n== a batch with one invalid task (CreateTasks, skip_invalid_items)")
	batch := []toloka.Task{
		{PoolID: tg.pool, InputValues: sampleValues(spec, 10), Overlap: toloka.FiniteOverlap(1)},
		{PoolID: tg.pool, InputValues: sampleValues(spec, 11), Overlap: toloka.FiniteOverlap(0)},
		{PoolID: tg.pool, InputValues: sampleValues(spec, 12), Overlap: toloka.FiniteOverlap(1)},
	}
	res, err := c.CreateTasks(ctx, batch, toloka.CreateOptions{SkipInvalidItems: true}, toloka.SkipValidation())
	if err != nil {
		return fmt.Errorf("creating a batch: %w", err)
	}
	for _, i := range res.CreatedIndexes() {
		fmt.Fprintf(w, "created tasks[%d] as %s\n", i, res.Items[i].ID)
	}
	for _, i := range res.RejectedIndexes() {
		for _, fe := range res.ValidationErrors[i] {
			fmt.Fprintf(w, "rejected %s: %s (%s)\n", fe.Path(), fe.Code, fe.Message)
		}
	}

	// 3. Task suites, for a pool without smart mixing.
	if tg.suitePool == "" {
		fmt.Fprintln(w, "\n== task suites: skipped (set TOLOKA_SUITE_POOL_ID to a pool without smart mixing)")
	} else {
		fmt.Fprintln(w, "\n== task suites (CreateTaskSuites)")
		var suites []toloka.TaskSuite
		for s := 0; s < 2; s++ {
			suites = append(suites, toloka.TaskSuite{
				PoolID:  tg.suitePool,
				Overlap: toloka.FiniteOverlap(1),
				Tasks:   []toloka.SuiteTask{{InputValues: sampleValues(spec, 20+2*s)}, {InputValues: sampleValues(spec, 21+2*s)}},
			})
		}
		sres, err := c.CreateTaskSuites(ctx, suites)
		if err != nil {
			return fmt.Errorf("creating task suites: %w", err)
		}
		for _, i := range sres.CreatedIndexes() {
			fmt.Fprintf(w, "created task_suites[%d] as %s with %d tasks\n", i, sres.Items[i].ID, len(sres.Items[i].Tasks))
		}
	}

	// 4. An async batch: one operation with an operation_id (so retries are
	// exactly-once), a wait with progress, and the results by index read from
	// the operation log. The invalid URL is caught by the SDK's validation
	// against the project's task_spec, so it is not sent at all; it is
	// reported at its index beside what Toloka created.
	fmt.Fprintln(w, "\n== an async batch (CreateTasksAndWait)")
	async := []toloka.Task{
		{PoolID: tg.pool, InputValues: sampleValues(spec, 30), Overlap: toloka.FiniteOverlap(1)},
		{PoolID: tg.pool, InputValues: sampleValues(spec, 31), Overlap: toloka.FiniteOverlap(1)},
		{PoolID: tg.pool, InputValues: brokenURL(spec, sampleValues(spec, 32)), Overlap: toloka.FiniteOverlap(1)},
		{PoolID: tg.pool, InputValues: sampleValues(spec, 33), Overlap: toloka.FiniteOverlap(1)},
	}
	ares, err := c.CreateTasksAndWait(ctx, async, toloka.CreateOptions{SkipInvalidItems: true}, tg.wait,
		toloka.WithProgress(func(p toloka.OperationProgress) {
			fmt.Fprintf(w, "operation %s: %s, %d%% done\n", p.ID, p.Status, p.Percent)
		}))
	if err != nil {
		return fmt.Errorf("uploading a batch asynchronously: %w", err)
	}
	for _, i := range ares.CreatedIndexes() {
		fmt.Fprintf(w, "created tasks[%d] as %s\n", i, ares.Items[i].ID)
	}
	for _, i := range ares.RejectedIndexes() {
		for _, fe := range ares.ValidationErrors[i] {
			fmt.Fprintf(w, "rejected %s: %s (%s)\n", fe.Path(), fe.Code, fe.Message)
		}
	}
	return nil
}

// brokenURL spoils the first url field of values, if the spec has one.
func brokenURL(spec map[string]toloka.FieldSpec, values toloka.Values) toloka.Values {
	for name, fs := range spec {
		if strings.EqualFold(fs.Type, toloka.FieldURL) && fs.Required {
			values[name] = "example.com/no-scheme.png"
			return values
		}
	}
	return values
}

// connect picks the fake or the real sandbox, as the environment says.
func connect(w io.Writer, getenv func(string) string) (*target, error) {
	key := getenv(toloka.EnvAPIKey)
	if key == "" {
		return startFake(w)
	}
	base := getenv(toloka.EnvURL)
	if base == "" {
		if env := strings.ToLower(getenv(toloka.EnvEnvironment)); env != "sandbox" {
			return nil, fmt.Errorf("%s=%q: the quickstart uploads demo tasks, so it only runs against the sandbox; set %s=sandbox", toloka.EnvEnvironment, env, toloka.EnvEnvironment)
		}
		base = toloka.SandboxURL
	}
	pool := getenv("TOLOKA_POOL_ID")
	if pool == "" {
		return nil, errors.New("TOLOKA_POOL_ID is not set: name a sandbox pool with smart mixing to upload tasks to")
	}
	c, err := toloka.NewClient(toloka.WithAPIKey(key), toloka.WithBaseURL(base), toloka.WithUserAgent("quickstart"))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "uploading to %s\n", base)
	return &target{client: c, pool: pool, suitePool: getenv("TOLOKA_SUITE_POOL_ID"), cleanup: func() {}}, nil
}

// startFake starts the in-memory Toloka with a demo project and two pools.
func startFake(w io.Writer) (*target, error) {
	// Operations finish after two polls, so the progress lines show a
	// RUNNING operation before its SUCCESS, as on the real service.
	s := tolokatest.NewServer(tolokatest.WithPace(tolokatest.FinishAfterPolls(2)))
	err := s.Seed(tolokatest.Fixtures{
		Projects: []toloka.Project{{ID: "1", PublicName: "Is it a cat?", TaskSpec: toloka.TaskSpec{
			InputSpec:  map[string]toloka.FieldSpec{"image": {Type: toloka.FieldURL, Required: true}},
			OutputSpec: map[string]toloka.FieldSpec{"result": {Type: toloka.FieldString, Required: true, AllowedValues: []any{"cat", "not cat"}}},
		}}},
		Pools: []toloka.Pool{
			{ID: "101", ProjectID: "1", PrivateName: "smart mixing", MixerConfig: &toloka.MixerConfig{RealTasksCount: 5}},
			{ID: "102", ProjectID: "1", PrivateName: "task suites"},
		},
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	c, err := s.Client(toloka.WithUserAgent("quickstart"))
	if err != nil {
		s.Close()
		return nil, err
	}
	fmt.Fprintln(w, "no TOLOKA_API_KEY: using the in-memory fake Toloka (package tolokatest)")
	return &target{client: c, pool: "101", suitePool: "102", cleanup: s.Close}, nil
}

// sampleValues makes input values that fit the spec, varied by n.
func sampleValues(spec map[string]toloka.FieldSpec, n int) toloka.Values {
	names := make([]string, 0, len(spec))
	for name := range spec {
		names = append(names, name)
	}
	sort.Strings(names)
	v := toloka.Values{}
	for _, name := range names {
		fs := spec[name]
		if !fs.Required {
			continue
		}
		typ, isArray := strings.CutPrefix(strings.ToLower(fs.Type), toloka.ArrayFieldPrefix)
		val := sampleScalar(typ, fs, n)
		if val == nil {
			continue
		}
		if isArray {
			v[name] = []any{val}
		} else {
			v[name] = val
		}
	}
	return v
}

func sampleScalar(typ string, fs toloka.FieldSpec, n int) any {
	if len(fs.AllowedValues) > 0 {
		return fs.AllowedValues[n%len(fs.AllowedValues)]
	}
	switch typ {
	case toloka.FieldURL:
		return fmt.Sprintf("https://example.com/quickstart/%d.png", n)
	case toloka.FieldString:
		s := fmt.Sprintf("quickstart %d", n)
		if fs.MaxLength != nil && len(s) > *fs.MaxLength {
			s = s[:*fs.MaxLength]
		}
		for fs.MinLength != nil && len(s) < *fs.MinLength {
			s += "."
		}
		return s
	case toloka.FieldInteger, toloka.FieldFloat:
		if fs.MinValue != nil {
			return *fs.MinValue
		}
		if fs.MaxValue != nil {
			return *fs.MaxValue
		}
		return 1
	case toloka.FieldBoolean:
		return n%2 == 0
	case toloka.FieldCoordinates:
		return "53.910236,27.531110"
	case toloka.FieldJSON:
		return map[string]any{"n": n}
	}
	return nil // file fields are outputs; unknown types are left out
}
