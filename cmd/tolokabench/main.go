// Command tolokabench measures the bulk uploader (Client.UploadTasks)
// end to end against tolokafake served from a separate process over
// loopback, and prints the figures of BENCHMARKS.md's "bulk" section:
//
//	go run ./cmd/tolokabench            # the full run, a couple of minutes
//	go run ./cmd/tolokabench -tasks 2000 -jsonl-tasks 5000 -rounds 1 \
//	    -pace-quota 5000 -pace-windows 2 -pace-scale 120   # a smoke run
//
// It builds cmd/tolokafake with `go build` into a temporary directory (so
// it must run inside the module, with the go command on PATH; -fake names a
// prebuilt one instead), and starts a fresh fake on a free 127.0.0.1 port for
// every workload. Each workload runs in a child process (this binary again),
// so the client's CPU time (user+system) and peak RSS come from that child's
// rusage alone; the fake's CPU is reported beside it. Tasks are shaped
// {"pool_id":"1","input_values":{"image":"https://example.com/img/0000001.png"}}
// and go to the demo data's smart-mixing pool 1 with allow_defaults.
//
// Workloads:
//
//   - baseline: the minimal client (baseline.go): encoding/json, 5,000-task
//     sync batches POSTed one at a time with net/http, answers decoded.
//   - upload: UploadTasks from a slice, default options (validation on,
//     5,000-task async batches, concurrency 4, default pacing).
//   - fake-sync, fake-async: the fake's ceiling — pre-encoded bodies posted
//     in a loop (sync, one connection; async plus the log read, 4 workers),
//     nothing encoded or decoded by the client.
//   - upload-jsonl: UploadTasks streaming a JSON Lines file through
//     TasksFromJSONL (peak RSS is its figure).
//   - pace: UploadTasks under a per-minute task quota that the fake enforces
//     on a clock running -pace-scale times faster than real time; the
//     uploader paces on the same scaled time (WithUploadClock).
//
// baseline and upload alternate for -rounds rounds; the CPU figures are the
// medians. -cpuprofile-dir writes a CPU profile of each child's measured
// phase, for `go tool pprof`.
package main

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	if os.Getenv(childEnv) == "1" {
		os.Exit(childMain(os.Args[1:]))
	}
	self, err := os.Executable()
	if err == nil {
		err = run(context.Background(), os.Args[1:], self, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tolokabench:", err)
		os.Exit(1)
	}
}

// config is the parent's flags.
type config struct {
	tasks, jsonlTasks, rounds            int
	paceQuota, paceWindows               int
	paceScale                            float64
	fake, workDir, profileDir, workloads string
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("tolokabench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&c.tasks, "tasks", 100_000, "tasks per upload in the CPU and throughput workloads")
	fs.IntVar(&c.jsonlTasks, "jsonl-tasks", 1_000_000, "tasks in the JSON Lines file of the memory workload")
	fs.IntVar(&c.rounds, "rounds", 5, "rounds of baseline vs upload (medians are reported)")
	fs.IntVar(&c.paceQuota, "pace-quota", 50_000, "task quota per minute in the pacing workload")
	fs.IntVar(&c.paceWindows, "pace-windows", 4, "the pacing workload uploads this many minutes' quota")
	fs.Float64Var(&c.paceScale, "pace-scale", 12, "the pacing workload's clocks run this many times faster than real time")
	fs.StringVar(&c.fake, "fake", "", "a prebuilt tolokafake binary (default: go build it)")
	fs.StringVar(&c.workDir, "workdir", "", "directory for the fake binary and the JSON Lines file (default: a temporary one, removed)")
	fs.StringVar(&c.profileDir, "cpuprofile-dir", "", "write each child's CPU profile here")
	fs.StringVar(&c.workloads, "only", "", "comma-separated workloads to run (default all: cpu,ceiling,memory,pace)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.tasks < 1 || c.jsonlTasks < 1 || c.rounds < 1:
		return c, fmt.Errorf("-tasks, -jsonl-tasks and -rounds must be positive")
	case c.paceQuota < 5000 || c.paceWindows < 2 || c.paceScale <= 0:
		return c, fmt.Errorf("-pace-quota must be at least one batch (5000), -pace-windows at least 2, -pace-scale positive")
	}
	return c, nil
}

// row is one workload run as the parent saw it.
type row struct {
	childResult
	procCPU time.Duration // the whole child process
	maxRSS  int64
	fakeCPU time.Duration
}

func (r row) rate() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.Created) / r.Wall.Seconds()
}

// bench runs workloads.
type bench struct {
	cfg     config
	self    string
	fakeBin string
	dir     string
	log     io.Writer
	serial  int
}

func run(ctx context.Context, args []string, self string, out io.Writer) error {
	began := time.Now()
	cfg, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, w := range strings.Split(cmp.Or(cfg.workloads, "cpu,ceiling,memory,pace"), ",") {
		want[strings.TrimSpace(w)] = true
	}
	dir := cfg.workDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "tolokabench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	b := &bench{cfg: cfg, self: self, dir: dir, log: out, fakeBin: cfg.fake}
	if b.fakeBin == "" {
		if b.fakeBin, err = buildFake(ctx, dir); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "tolokabench: %s, GOMAXPROCS=%d, %d CPUs, %s/%s, %s\n", runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, cpuModel())

	var rows []row
	var baseline, uploads []row
	if want["cpu"] {
		for round := range cfg.rounds {
			order := []string{"baseline", "upload"}
			if round%2 == 1 {
				order = []string{"upload", "baseline"}
			}
			for _, name := range order {
				r, err := b.workload(ctx, name, nil, "-tasks", fmt.Sprint(cfg.tasks))
				if err != nil {
					return err
				}
				if name == "baseline" {
					baseline = append(baseline, r)
				} else {
					uploads = append(uploads, r)
				}
				rows = append(rows, r)
			}
		}
	}
	if want["ceiling"] {
		for range cfg.rounds {
			for _, name := range []string{"fake-sync", "fake-async"} {
				r, err := b.workload(ctx, name, nil, "-tasks", fmt.Sprint(cfg.tasks))
				if err != nil {
					return err
				}
				rows = append(rows, r)
			}
		}
	}
	if want["memory"] {
		file := filepath.Join(dir, "tasks.jsonl")
		t0 := time.Now()
		if err := writeJSONL(file, cfg.jsonlTasks); err != nil {
			return err
		}
		st, _ := os.Stat(file)
		fmt.Fprintf(out, "wrote %s tasks (%.1f MiB) of JSON Lines in %.1f s\n", itoa(int64(cfg.jsonlTasks)), float64(st.Size())/(1<<20), time.Since(t0).Seconds())
		r, err := b.workload(ctx, "upload-jsonl", nil, "-file", file)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	if want["pace"] {
		quota, scale := fmt.Sprint(cfg.paceQuota), fmt.Sprint(cfg.paceScale)
		r, err := b.workload(ctx, "pace", []string{"-task-quota-minute", quota, "-clock-scale", scale},
			"-tasks", fmt.Sprint(cfg.paceQuota*cfg.paceWindows), "-quota", quota, "-scale", scale)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}

	printTable(out, rows)
	printSummary(out, rows, baseline, uploads)
	fmt.Fprintf(out, "\ncommand: tolokabench %s\nruntime: %.1f s\n", strings.Join(args, " "), time.Since(began).Seconds())
	return nil
}

// workload runs one child against a fresh fake.
func (b *bench) workload(ctx context.Context, name string, fakeArgs []string, args ...string) (row, error) {
	t0 := time.Now()
	fake, err := startFake(b.fakeBin, fakeArgs...)
	if err != nil {
		return row{}, err
	}
	args = append([]string{name, "-url", fake.url}, args...)
	if b.cfg.profileDir != "" {
		b.serial++
		args = append(args, "-cpuprofile", filepath.Join(b.cfg.profileDir, fmt.Sprintf("%02d-%s.pprof", b.serial, name)))
	}
	cmd := exec.CommandContext(ctx, b.self, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	if os.Getenv("GORACE") == "" {
		// A race-enabled child (the smoke test's) would idle 1 s at exit.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	t1 := time.Now()
	runErr := cmd.Run()
	t2 := time.Now()
	fakeCPU, _ := fake.stop()
	fmt.Fprintf(b.log, "ran %s: fake up in %.2f s, child %.2f s, fake down in %.2f s\n", name, t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds(), time.Since(t2).Seconds())
	if runErr != nil {
		return row{}, fmt.Errorf("workload %s: %w", name, runErr)
	}
	res, err := parseResult(stdout.Bytes())
	if err != nil {
		return row{}, fmt.Errorf("workload %s: %w", name, err)
	}
	if res.Created != res.Tasks || res.Failed != 0 {
		return row{}, fmt.Errorf("workload %s: created %d of %d tasks (%d failed)", name, res.Created, res.Tasks, res.Failed)
	}
	u := usageOf(cmd.ProcessState)
	return row{childResult: res, procCPU: u.cpu, maxRSS: u.maxRSS, fakeCPU: fakeCPU}, nil
}

func printTable(out io.Writer, rows []row) {
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\ttasks\twall s\ttasks/s\tclient CPU s\tCPU µs/task\tprocess CPU s\tpeak RSS MiB\tfake CPU s\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%s\t%.3f\t%.2f\t%.3f\t%.1f\t%.2f\t\n", r.Workload, itoa(r.Tasks), r.Wall.Seconds(), itoa(int64(r.rate())),
			r.CPU.Seconds(), float64(r.CPU.Microseconds())/float64(max(r.Tasks, 1)), r.procCPU.Seconds(), float64(r.maxRSS)/(1<<20), r.fakeCPU.Seconds())
	}
	tw.Flush()
}

func median(rows []row, f func(row) float64) float64 {
	if len(rows) == 0 {
		return 0
	}
	v := make([]float64, len(rows))
	for i, r := range rows {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func printSummary(out io.Writer, rows, baseline, uploads []row) {
	fmt.Fprintln(out)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	cpu := func(r row) float64 { return r.CPU.Seconds() }
	if len(baseline) > 0 && len(uploads) > 0 {
		b, u := median(baseline, cpu), median(uploads, cpu)
		var ratios []string
		for i := range min(len(baseline), len(uploads)) {
			ratios = append(ratios, fmt.Sprintf("%.2f", uploads[i].CPU.Seconds()/baseline[i].CPU.Seconds()))
		}
		fmt.Fprintf(out, "client CPU, %s tasks: upload %.3f s vs baseline %.3f s (medians of %d) = %.2f× (per round: %s); target ≤ 1: %s\n",
			itoa(uploads[0].Tasks), u, b, len(uploads), u/b, strings.Join(ratios, ", "), verdict(u <= b))
		fmt.Fprintf(out, "  whole child process: upload %.3f s vs baseline %.3f s = %.2f×\n",
			median(uploads, func(r row) float64 { return r.procCPU.Seconds() }), median(baseline, func(r row) float64 { return r.procCPU.Seconds() }),
			median(uploads, func(r row) float64 { return r.procCPU.Seconds() })/median(baseline, func(r row) float64 { return r.procCPU.Seconds() }))
	}
	byName := map[string]row{} // the last run of each workload
	runs := map[string][]row{}
	for _, r := range rows {
		byName[r.Workload] = r
		runs[r.Workload] = append(runs[r.Workload], r)
	}
	if r, ok := byName["upload-jsonl"]; ok {
		mib := float64(r.maxRSS) / (1 << 20)
		fmt.Fprintf(out, "memory, %s tasks from JSON Lines: peak RSS %.1f MiB; target ≤ 64 MiB: %s\n", itoa(r.Tasks), mib, verdict(mib <= 64))
	}
	if r, ok := byName["pace"]; ok && r.Pace != nil {
		p := r.Pace
		var wins []string
		for _, w := range p.Windows {
			wins = append(wins, fmt.Sprintf("%s @%.1fs", itoa(w.Items), w.Start.Seconds()))
		}
		steady := p.Steady / float64(p.Quota)
		fmt.Fprintf(out, "pacing at %s tasks/min (clock ×%g): steady %s tasks/min = %.1f%% of the quota; whole upload %s tasks/min over %.1f clock-s; busiest minute %s; %d batches, %d failed, %d answers 429; windows: %s; target ≥ 95%% and no failed batch: %s\n",
			itoa(int64(p.Quota)), p.Scale, itoa(int64(p.Steady)), steady*100, itoa(int64(p.Overall)), p.Duration.Seconds(), itoa(p.MaxPerMinute),
			p.Batches, r.FailedBatches, p.TooMany, strings.Join(wins, ", "), verdict(steady >= 0.95 && r.FailedBatches == 0))
	}
	rate := func(r row) float64 { return r.rate() }
	if len(uploads) > 0 {
		line := fmt.Sprintf("throughput at the default concurrency: upload %s tasks/s", itoa(int64(median(uploads, rate))))
		if r, ok := byName["upload-jsonl"]; ok {
			line += fmt.Sprintf(" (%s from JSON Lines, quota pacing off: %s)", itoa(r.Tasks), itoa(int64(r.rate())))
		}
		if len(baseline) > 0 {
			line += fmt.Sprintf("; baseline %s", itoa(int64(median(baseline, rate))))
		}
		for _, name := range []string{"fake-async", "fake-sync"} {
			if rs := runs[name]; len(rs) > 0 {
				line += fmt.Sprintf("; fake ceiling %s %s", strings.TrimPrefix(name, "fake-"), itoa(int64(median(rs, rate))))
			}
		}
		line += " (medians)"
		fmt.Fprintln(out, line)
	}
}

// cpuModel names the processor, where Linux says.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
		}
	}
	return "unknown CPU"
}
