package toloka

import "context"

// CreateTaskSuite creates one task suite synchronously:
// POST /task-suites?async_mode=false. The suite goes to a pool without smart
// mixing; pools with a mixer_config take single tasks through CreateTasks.
//
// A sync create has no idempotency key, so it is never resent once the
// request may have reached Toloka; use CreateTaskSuitesAsync where
// exactly-once matters. The suite is validated before sending unless
// SkipValidation is given.
func (c *Client) CreateTaskSuite(ctx context.Context, suite TaskSuite, opts ...CallOption) (*TaskSuite, error) {
	var created TaskSuite
	if err := c.createOne(ctx, collectionTaskSuites, suite, &created, opts); err != nil {
		return nil, err
	}
	return &created, nil
}

// CreateTaskSuites creates up to MaxSyncBatch (5,000) task suites in one
// synchronous request: POST /task-suites?async_mode=false. Toloka documents
// no sync cap for suites; the SDK applies the tasks' cap, as toloka-kit does.
//
// Without CreateOptions.SkipInvalidItems one invalid suite fails the whole
// batch; with it, the valid suites are created and the rest are reported in
// the result by index. Partial success is not an error: check result.Err().
// Suites the SDK's own validation rejects are then not sent; they appear in
// result.ValidationErrors at their index like Toloka's rejections.
func (c *Client) CreateTaskSuites(ctx context.Context, suites []TaskSuite, opts ...CallOption) (*TaskSuiteBatchResult, error) {
	return createBatch[TaskSuite](ctx, c, collectionTaskSuites, suites, opts)
}
