// Command tolokafake serves the in-memory fake Toloka of package tolokatest
// over HTTP, for tools and other languages' clients (toloka-kit included):
//
//	go run ./cmd/tolokafake -addr 127.0.0.1:8080 [-fixtures file.json] [-credential KEY]
//
// -quotas enforces Toloka's task and suite quotas; -task-quota-minute and
// -task-quota-day set other task quotas, and -clock-scale runs the server's
// clock faster than real time, so a benchmark can see per-minute quotas in
// seconds (cmd/tolokabench does).
//
// It prints the API base URL and the credential, and serves until
// interrupted. Without -fixtures it seeds a demo project (id 1) with a
// smart-mixing pool (1), a pool for task suites (2) and a training (3).
// toloka-kit connects with TolokaClient(KEY, url="http://127.0.0.1:8080"):
// it appends /api/v1 itself.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gotoloka/toloka/tolokatest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tolokafake:", err)
		os.Exit(2)
	}
}

// run parses args, serves until ctx is done, and reports where it listens on out.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("tolokafake", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	fixtures := fs.String("fixtures", "", "JSON fixture file (projects, pools, trainings, tasks, task_suites); default: a demo project")
	credential := fs.String("credential", tolokatest.DefaultCredential, "API key or OAuth token the server accepts")
	polls := fs.Int("polls", 0, "async operations finish on the N-th GET /operations/{id} (0: at once)")
	rps := fs.Int("rate-limit", 0, "requests per second before 429 (0: none; Toloka's is 300)")
	quotas := fs.Bool("quotas", false, "enforce Toloka's task and suite quotas per minute and day")
	perMinute := fs.Int("task-quota-minute", 0, "tasks accepted per clock minute before 429 (0: Toloka's with -quotas, else none)")
	perDay := fs.Int("task-quota-day", 0, "tasks accepted per clock day before 429 (0: Toloka's with -quotas, else none)")
	scale := fs.Float64("clock-scale", 1, "run the server clock (timestamps, rate limit, quotas) this many times faster than real time")
	seed := fs.Uint64("seed", 1, "seed for operation and request ids")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *credential == "" {
		return errors.New("-credential must not be empty")
	}
	if *scale <= 0 || *perMinute < 0 || *perDay < 0 {
		return errors.New("-clock-scale must be positive and the quotas 0 or more")
	}
	opts := []tolokatest.Option{
		tolokatest.WithListenAddr(*addr),
		tolokatest.WithCredential(*credential),
		tolokatest.WithSeed(*seed),
		tolokatest.WithRateLimit(*rps),
	}
	if *polls > 0 {
		opts = append(opts, tolokatest.WithPace(tolokatest.FinishAfterPolls(*polls)))
	}
	taskQuota := tolokatest.Quota{PerMinute: *perMinute, PerDay: *perDay}
	if *quotas {
		def := tolokatest.TaskQuota()
		taskQuota.PerMinute = cmp.Or(taskQuota.PerMinute, def.PerMinute)
		taskQuota.PerDay = cmp.Or(taskQuota.PerDay, def.PerDay)
		opts = append(opts, tolokatest.WithSuiteQuota(tolokatest.SuiteQuota()))
	}
	opts = append(opts, tolokatest.WithTaskQuota(taskQuota))
	if *scale != 1 {
		opts = append(opts, tolokatest.WithClock(tolokatest.NewScaledClock(time.Now(), *scale)))
	}
	s, err := tolokatest.Listen(opts...)
	if err != nil {
		return err
	}
	defer s.Close()
	if *fixtures != "" {
		err = s.LoadFixturesFile(*fixtures)
	} else {
		err = s.LoadFixtures(strings.NewReader(demoFixtures))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "tolokafake listening on %s\n", s.RootURL())
	fmt.Fprintf(out, "API base URL: %s\n", s.URL())
	fmt.Fprintf(out, "credential:   %s (send \"Authorization: ApiKey <credential>\" or \"OAuth <credential>\")\n", s.Credential())
	if *fixtures == "" {
		fmt.Fprintln(out, "demo data:    project 1; pool 1 (smart mixing: POST /tasks), pool 2 (task suites), training 3")
	}
	<-ctx.Done()
	return nil
}
