// Package toloka is a Go client for uploading work to Toloka, the
// crowdsourcing platform: tasks, task suites, and the operations that track
// asynchronous uploads. The API contract it follows is Toloka's REST API v1.
//
// # Authentication
//
// Create one Client and share it; it is safe for concurrent use:
//
//	c, err := toloka.NewClient(toloka.WithAPIKey(key), toloka.WithBaseURL(toloka.SandboxURL))
//
// WithAPIKey sends "Authorization: ApiKey <key>"; WithOAuthToken sends the
// legacy "OAuth <token>". WithEnv reads TOLOKA_API_KEY and TOLOKA_ENV
// ("production" or "sandbox") or TOLOKA_URL. The credential never appears in
// errors, logs or any formatting of the client.
//
// # Tasks or task suites
//
// Which call a pool takes depends on the pool (toloka-api.md §7.4): a pool
// with smart mixing (a mixer_config) or a training pool takes single tasks
// (CreateTask, CreateTasks), and Toloka builds the pages; any other pool
// takes pre-grouped task suites (CreateTaskSuite, CreateTaskSuites).
//
// # Synchronous creates
//
// CreateTasks and CreateTaskSuites send up to MaxSyncBatch (5,000) items in
// one request and return a BatchResult keyed by each item's position in the
// request. With CreateOptions{SkipInvalidItems: true} Toloka creates the
// valid items and reports the others; that partial success is not an error —
// call BatchResult.Err to treat it as one. Without it, one invalid item fails
// the batch with an *APIError whose FieldErrors name each item's index.
//
// A synchronous create has no idempotency key: if the connection breaks
// after the request was sent, nobody knows whether the items were created,
// so the SDK does not resend it.
//
// # Errors
//
// Every non-2xx response is an *APIError (errors.As) carrying the HTTP
// status, Toloka's code, message, request_id and payload; errors.Is matches
// it against the sentinel families ErrNotFound, ErrAccessDenied,
// ErrUnauthorized, ErrConflict, ErrValidation, ErrRateLimited,
// ErrServerUnavailable and ErrTooLarge. Problems found before sending come
// as a *ValidationError. Both carry FieldError values, one type for
// problems found by the client, in a sync batch result, in an operation log
// or in a 400 payload; FieldError.Path renders "tasks[3].input_values.image".
//
// # Wire format choices
//
// Where Toloka's documentation is silent or contradicts itself, the SDK
// chooses as follows:
//   - Timestamps are parsed with 0–9 fraction digits and no zone as UTC
//     (a "Z" or an offset is accepted too) and sent without a zone (§1.3).
//   - Overlap is sent as the pair of §4.3, or not at all when unset.
//   - Read-only fields (id, created, remaining_overlap, origin_task_id,
//     automerged) are decoded but never sent.
//   - Numbers in input_values and output_values decode as json.Number, so
//     large integers keep their precision.
//   - A sync batch rejected as a whole is expected as 400 VALIDATION_ERROR
//     with a payload keyed by item index (§2.3, inferred); a flat field map
//     is decoded too.
//   - Task suites get the same 5,000-item sync cap as tasks (§3.3: toloka-kit
//     documents it, Toloka does not).
package toloka
