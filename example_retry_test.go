package toloka_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/gotoloka/toloka"
)

// A read is retried through a passing outage; the zero delays keep the
// example instant (use DefaultRetryPolicy in production).
func ExampleRetryPolicy() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"code":"REMOTE_SERVICE_UNAVAILABLE","message":"Service is temporary unavailable"}`)
			return
		}
		_, _ = io.WriteString(w, `{"id":"42","status":"OPEN"}`)
	}))
	defer srv.Close()

	client, err := toloka.NewClient(
		toloka.WithAPIKey("example-key"),
		toloka.WithBaseURL(srv.URL+"/api/v1"),
		toloka.WithRetryPolicy(toloka.RetryPolicy{MaxRetries: 3}),
	)
	if err != nil {
		panic(err)
	}
	pool, err := client.GetPool(context.Background(), "42")
	fmt.Println(pool.ID, pool.Status, err, calls.Load())

	// One call may override the client's policy: no retries here.
	calls.Store(0)
	_, err = client.GetPool(context.Background(), "42", toloka.RetryPolicy{})
	fmt.Println(errors.Is(err, toloka.ErrServerUnavailable))
	// Output:
	// 42 OPEN <nil> 3
	// true
}

// A sync create whose answer is lost is not resent, because it has no
// idempotency key; the error says so.
func ExampleErrOutcomeUnknown() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway) // the proxy lost Toloka's answer
	}))
	defer srv.Close()
	client, err := toloka.NewClient(toloka.WithAPIKey("example-key"), toloka.WithBaseURL(srv.URL+"/api/v1"))
	if err != nil {
		panic(err)
	}
	task := toloka.Task{PoolID: "1", InputValues: toloka.Values{"image": "https://example.com/1.png"}, Overlap: toloka.FiniteOverlap(1)}
	_, err = client.CreateTasks(context.Background(), []toloka.Task{task}, toloka.SkipValidation())
	var apiErr *toloka.APIError
	switch {
	case errors.Is(err, toloka.ErrOutcomeUnknown) && errors.As(err, &apiErr):
		fmt.Println("may or may not be created; status", apiErr.StatusCode)
	case err != nil:
		fmt.Println("failed:", err)
	}
	// Output:
	// may or may not be created; status 502
}
