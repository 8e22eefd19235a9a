package toloka_test

import (
	"context"
	"fmt"
	"log"

	"github.com/gotoloka/toloka"
	"github.com/gotoloka/toloka/tolokatest"
)

// newExampleServer starts an in-memory Toloka with a project whose tasks take
// an image URL, a smart-mixing pool "101" for tasks and a pool "102" for task
// suites. Users' own tests can do the same.
func newExampleServer() *tolokatest.Server {
	s := tolokatest.NewServer()
	err := s.Seed(tolokatest.Fixtures{
		Projects: []toloka.Project{{ID: "1", TaskSpec: toloka.TaskSpec{
			InputSpec:  map[string]toloka.FieldSpec{"image": {Type: toloka.FieldURL, Required: true}},
			OutputSpec: map[string]toloka.FieldSpec{"result": {Type: toloka.FieldString, Required: true}},
		}}},
		Pools: []toloka.Pool{
			{ID: "101", ProjectID: "1", MixerConfig: &toloka.MixerConfig{RealTasksCount: 5},
				Defaults: &toloka.PoolDefaults{DefaultOverlapForNewTasks: toloka.Ptr(int64(3))}},
			{ID: "102", ProjectID: "1"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	return s
}

func ExampleClient_CreateTask() {
	s := newExampleServer()
	defer s.Close()
	client, err := s.Client() // already pointed at the fake, with its credential
	if err != nil {
		log.Fatal(err)
	}

	task, err := client.CreateTask(context.Background(), toloka.Task{
		PoolID:      "101",
		InputValues: toloka.Values{"image": "https://example.com/cat.png"},
	}, toloka.CreateOptions{AllowDefaults: true}) // take the pool's default overlap
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("pool:", task.PoolID)
	fmt.Println("overlap:", task.Overlap)
	fmt.Println("has id:", task.ID != "")
	fmt.Println("tasks in the pool:", s.TaskCount("101"))
	// Output:
	// pool: 101
	// overlap: 3
	// has id: true
	// tasks in the pool: 1
}

func ExampleClient_CreateTasks_skipInvalidItems() {
	s := newExampleServer()
	defer s.Close()
	client, err := s.Client()
	if err != nil {
		log.Fatal(err)
	}

	tasks := []toloka.Task{
		{PoolID: "101", InputValues: toloka.Values{"image": "https://example.com/1.png"}, Overlap: toloka.FiniteOverlap(2)},
		{PoolID: "101", InputValues: toloka.Values{"image": "https://example.com/2.png"}, Overlap: toloka.FiniteOverlap(0)},
		{PoolID: "101", InputValues: toloka.Values{"image": "https://example.com/3.png"}, Overlap: toloka.FiniteOverlap(2)},
	}
	// SkipInvalidItems creates the valid tasks and reports the others by
	// index. SkipValidation sends the batch as is, so that the server, not
	// the client, judges the invalid task.
	res, err := client.CreateTasks(context.Background(), tasks,
		toloka.CreateOptions{SkipInvalidItems: true}, toloka.SkipValidation())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", res.CreatedIndexes())
	for _, i := range res.RejectedIndexes() {
		for _, fe := range res.ValidationErrors[i] {
			fmt.Println("rejected:", fe.Path(), fe.Code)
		}
	}
	fmt.Println("tasks in the pool:", s.TaskCount("101"))
	// Output:
	// created: [0 2]
	// rejected: tasks[1].overlap VALUE_LESS_THAN_MIN
	// tasks in the pool: 2
}

func ExampleClient_CreateTaskSuites() {
	s := newExampleServer()
	defer s.Close()
	client, err := s.Client()
	if err != nil {
		log.Fatal(err)
	}

	suites := []toloka.TaskSuite{{
		PoolID:  "102", // a pool without smart mixing takes pre-built pages
		Overlap: toloka.FiniteOverlap(1),
		Tasks: []toloka.SuiteTask{
			{InputValues: toloka.Values{"image": "https://example.com/a.png"}},
			{InputValues: toloka.Values{"image": "https://example.com/b.png"},
				KnownSolutions: []toloka.KnownSolution{{OutputValues: toloka.Values{"result": "cat"}}}},
		},
	}}
	res, err := client.CreateTaskSuites(context.Background(), suites)
	if err != nil {
		log.Fatal(err)
	}
	suite := res.Items[0]
	fmt.Println("created:", res.CreatedIndexes())
	fmt.Println("tasks in the suite:", len(suite.Tasks))
	fmt.Println("suites in the pool:", s.TaskSuiteCount("102"))
	// Output:
	// created: [0]
	// tasks in the suite: 2
	// suites in the pool: 1
}
