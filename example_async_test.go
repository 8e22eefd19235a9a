package toloka_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gotoloka/toloka"
)

// An async upload with a progress line, against the pool named in the code.
// It needs TOLOKA_API_KEY (and TOLOKA_ENV=sandbox for the sandbox).
func ExampleClient_CreateTasksAndWait() {
	c, err := toloka.NewClient(toloka.WithEnv())
	if err != nil {
		log.Fatal(err)
	}
	tasks := []toloka.Task{
		{PoolID: "1238218", InputValues: toloka.Values{"image": "https://example.com/1.png"}, Overlap: toloka.FiniteOverlap(3)},
		{PoolID: "1238218", InputValues: toloka.Values{"image": "https://example.com/2.png"}, Overlap: toloka.FiniteOverlap(3)},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	res, err := c.CreateTasksAndWait(ctx, tasks,
		toloka.CreateOptions{SkipInvalidItems: true},
		toloka.WithProgress(func(p toloka.OperationProgress) {
			fmt.Printf("operation %s: %s %d%%\n", p.ID, p.Status, p.Percent)
		}))
	var opErr *toloka.OperationError
	switch {
	case errors.As(err, &opErr):
		log.Fatalf("upload failed; %d task(s) created anyway: %v", len(opErr.Results.Created), err)
	case err != nil:
		log.Fatal(err)
	}
	for _, i := range res.CreatedIndexes() {
		fmt.Printf("task %d created as %s\n", i, res.Items[i].ID)
	}
	for _, i := range res.RejectedIndexes() {
		fmt.Printf("task %d rejected: %v\n", i, res.ValidationErrors[i])
	}
}

// Resuming an upload after a crash: the operation id was saved before the
// process died, so any process can wait for it and read its outcome.
func ExampleClient_WaitOperation() {
	c, err := toloka.NewClient(toloka.WithEnv())
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	const saved = "281073ea-ab34-416e-a028-47421ff1b166"
	if _, err := c.WaitOperation(ctx, saved); err != nil && !errors.Is(err, toloka.ErrOperationFailed) {
		log.Fatal(err)
	}
	results, err := c.ReadUploadResults(ctx, saved, 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d created, %d rejected, %d other log entries\n",
		len(results.Created), len(results.ValidationErrors), len(results.Other))
}

// Exactly once across processes: a deterministic operation id makes sending
// the same batch again find the first operation instead of creating the
// tasks twice.
func ExampleWithOperationID() {
	c, err := toloka.NewClient(toloka.WithEnv())
	if err != nil {
		log.Fatal(err)
	}
	batch := []toloka.Task{{PoolID: "1238218", InputValues: toloka.Values{"image": "https://example.com/1.png"}, Overlap: toloka.FiniteOverlap(1)}}
	op, err := c.CreateTasksAsync(context.Background(), batch,
		toloka.WithOperationID("0f8fad5b-d9cb-469f-a165-70867728950e"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(op.ID, op.Status)
}
