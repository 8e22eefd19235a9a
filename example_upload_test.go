package toloka_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/gotoloka/toloka"
)

// Upload a JSON Lines file of any size, with a progress bar, keeping the
// upload id so that a rerun after a crash resumes instead of duplicating.
func ExampleClient_UploadTasks() {
	c, err := toloka.NewClient(toloka.WithEnv())
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open("tasks.jsonl")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	failed, _ := os.Create("rejected.txt")
	defer failed.Close()
	sum, err := c.UploadTasks(context.Background(), toloka.TasksFromJSONL(f),
		toloka.WithUploadID("labels-2024-05-01"), // same id on a rerun: nothing is created twice
		toloka.WithCallOptions(toloka.CreateOptions{AllowDefaults: true}),
		toloka.OnProgress(toloka.NewProgressBar(os.Stderr)),
		toloka.OnResult(func(r toloka.ItemResult) {
			if r.Status == toloka.ItemRejected {
				fmt.Fprintf(failed, "%d\t%v\n", r.Index, r.Errors)
			}
		}))
	if err != nil {
		log.Fatalf("%v (created %d so far)", err, sum.Created)
	}
	fmt.Printf("upload %s: %d created, %d rejected\n", sum.UploadID, sum.Created, sum.Rejected)
}
