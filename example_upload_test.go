package toloka_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/gotoloka/toloka"
)

// Upload JSON Lines of any size (here four lines; a file works the same),
// keeping the upload id so that a rerun after a crash resumes instead of
// duplicating, and hearing about every item by its line.
func ExampleClient_UploadTasks() {
	s := newExampleServer()
	defer s.Close()
	client, err := s.Client()
	if err != nil {
		log.Fatal(err)
	}
	lines := strings.NewReader(`{"pool_id":"101","input_values":{"image":"https://example.com/1.png"}}
{"pool_id":"101","input_values":{"image":"https://example.com/2.png"}}
{"pool_id":"101","input_values":{"image":"not a url"}}
{"pool_id":"101","input_values":{"image":"https://example.com/4.png"}}
`)
	sum, err := client.UploadTasks(context.Background(), toloka.TasksFromJSONL(lines),
		toloka.WithUploadID("cats-2026-12-04"), // the same id on a rerun: nothing is created twice
		toloka.WithCallOptions(toloka.CreateOptions{AllowDefaults: true}, quickPolls),
		toloka.OnResult(func(r toloka.ItemResult) {
			if r.Status == toloka.ItemRejected {
				fmt.Printf("line %d rejected: %s %s\n", r.Index+1, r.Errors[0].Path(), r.Errors[0].Code)
			}
		}))
	if err != nil {
		log.Fatal(err) // an *UploadError names the upload id to rerun with
	}
	fmt.Printf("%d read, %d created, %d rejected, %d failed\n", sum.Read, sum.Created, sum.Rejected, sum.Failed)
	fmt.Println("tasks in the pool:", s.TaskCount("101"))
	// Output:
	// line 3 rejected: tasks[2].input_values.image INVALID_URL_SYNTAX
	// 4 read, 3 created, 1 rejected, 0 failed
	// tasks in the pool: 3
}
