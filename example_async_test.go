package toloka_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/tolokatest"
)

// quickPolls shortens the polling of an operation for the in-memory fake; on
// the real service leave WaitOptions out (first poll after 500 ms, then every
// second, backing off to every 10 s).
var quickPolls = toloka.WaitOptions{FirstDelay: time.Millisecond, Interval: time.Millisecond, MaxInterval: time.Millisecond}

// An async upload with a progress line: upload, wait for the operation, and
// get the created tasks and the rejected ones by their index.
func ExampleClient_CreateTasksAndWait() {
	s := newExampleServer()
	defer s.Close()
	s.SetPace(tolokatest.FinishAfterPolls(2)) // report RUNNING once, as Toloka would
	client, err := s.Client()
	if err != nil {
		log.Fatal(err)
	}
	tasks := []toloka.Task{
		{PoolID: "101", InputValues: toloka.Values{"image": "https://example.com/1.png"}, Overlap: toloka.FiniteOverlap(3)},
		{PoolID: "101", InputValues: toloka.Values{"image": "example.com/2.png"}, Overlap: toloka.FiniteOverlap(3)},
		{PoolID: "101", InputValues: toloka.Values{"image": "https://example.com/3.png"}, Overlap: toloka.FiniteOverlap(3)},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	res, err := client.CreateTasksAndWait(ctx, tasks,
		toloka.CreateOptions{SkipInvalidItems: true}, quickPolls,
		toloka.WithProgress(func(p toloka.OperationProgress) {
			fmt.Printf("%s %d%%\n", p.Status, p.Percent)
		}))
	var opErr *toloka.OperationError
	switch {
	case errors.As(err, &opErr):
		log.Fatalf("upload failed; %d task(s) created anyway: %v", len(opErr.Results.Created), err)
	case err != nil:
		log.Fatal(err)
	}
	for _, i := range res.CreatedIndexes() {
		fmt.Printf("task %d created in pool %s\n", i, res.Items[i].PoolID)
	}
	for _, i := range res.RejectedIndexes() {
		fmt.Printf("task %d rejected: %s %s\n", i, res.ValidationErrors[i][0].Path(), res.ValidationErrors[i][0].Code)
	}
	// Output:
	// PENDING 0%
	// RUNNING 50%
	// SUCCESS 100%
	// task 0 created in pool 101
	// task 2 created in pool 101
	// task 1 rejected: tasks[1].input_values.image INVALID_URL_SYNTAX
}

// Resuming an upload after a crash: the operation id was saved before the
// process died, so any process can wait for it and read its outcome.
func ExampleClient_WaitOperation() {
	s := newExampleServer()
	defer s.Close()
	client, err := s.Client()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	batch := []toloka.Task{
		{PoolID: "101", InputValues: toloka.Values{"image": "https://example.com/1.png"}, Overlap: toloka.FiniteOverlap(1)},
		{PoolID: "101", InputValues: toloka.Values{"image": "https://example.com/2.png"}, Overlap: toloka.FiniteOverlap(1)},
	}
	op, err := client.CreateTasksAsync(ctx, batch)
	if err != nil {
		log.Fatal(err)
	}
	saved := op.ID // ...the process dies here; another one picks up:

	done, err := client.WaitOperation(ctx, saved, quickPolls)
	if err != nil && !errors.Is(err, toloka.ErrOperationFailed) {
		log.Fatal(err)
	}
	results, err := client.ReadUploadResults(ctx, saved, len(batch))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(done.Status)
	fmt.Printf("%d created, %d rejected, %d other log entries\n",
		len(results.Created), len(results.ValidationErrors), len(results.Other))
	// Output:
	// SUCCESS
	// 2 created, 0 rejected, 0 other log entries
}

// Exactly once across processes: a deterministic operation id makes sending
// the same batch again find the first operation instead of creating the
// tasks twice.
func ExampleWithOperationID() {
	s := newExampleServer()
	defer s.Close()
	client, err := s.Client()
	if err != nil {
		log.Fatal(err)
	}
	batch := []toloka.Task{{PoolID: "101", InputValues: toloka.Values{"image": "https://example.com/1.png"}, Overlap: toloka.FiniteOverlap(1)}}
	const id = "0f8fad5b-d9cb-469f-a165-70867728950e"
	for attempt := 1; attempt <= 2; attempt++ {
		op, err := client.CreateTasksAsync(context.Background(), batch, toloka.WithOperationID(id))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("attempt", attempt, "operation", op.ID)
	}
	fmt.Println("tasks in the pool:", s.TaskCount("101"))
	// Output:
	// attempt 1 operation 0f8fad5b-d9cb-469f-a165-70867728950e
	// attempt 2 operation 0f8fad5b-d9cb-469f-a165-70867728950e
	// tasks in the pool: 1
}
