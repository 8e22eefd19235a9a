// Package toloka is a Go client for uploading work to Toloka, the
// crowdsourcing platform: tasks, task suites, asynchronous uploads and the
// operations that track them, with validation before anything is sent. The
// API contract it follows is Toloka's REST API v1; comments cite the
// project's contract notes (toloka-api.md) by section.
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
// errors, logs or any formatting of the client, is not sent over plain
// http:// to a host other than loopback unless WithInsecureHTTP is given, and
// is not forwarded on a redirect to another host.
//
// # Tasks or task suites
//
// Which call a pool takes depends on the pool (toloka-api.md §7.4): a pool
// with smart mixing (a mixer_config) or a training pool takes single tasks
// (CreateTask, CreateTasks, CreateTasksAsync, UploadTasks), and Toloka
// builds the pages; any other pool takes pre-grouped task suites
// (CreateTaskSuite, CreateTaskSuites, ...). The SDK checks this before
// sending.
//
// # Sync, async or bulk
//
// CreateTasks and CreateTaskSuites send up to MaxSyncBatch (5,000) items in
// one request and return a BatchResult keyed by each item's position. A sync
// create has no idempotency key: if the connection breaks after the request
// was sent, nobody knows whether the items were created, so the SDK does not
// resend it and returns an error matching ErrOutcomeUnknown.
//
// CreateTasksAsync and CreateTaskSuitesAsync send up to MaxAsyncBatch
// (10,000) items as one background operation with a client-chosen
// operation_id, so every retry is exactly-once: a 409
// OPERATION_ALREADY_EXISTS for that id means an earlier attempt got through,
// and the SDK carries on with that operation. WaitOperation polls it (first
// after 500 ms, then every second, backing off to every 10 s; ctx bounds the
// wait), OperationLog streams its log, and ReadUploadResults maps the log
// back to request indexes through an "__item_idx" marker the SDK adds to
// every item (toloka-api.md §9.1). CreateTasksAndWait does the whole round
// trip and returns the same BatchResult as the sync call.
//
// UploadTasks and UploadTaskSuites take a slice, an iter.Seq or a JSON Lines
// reader of any size, and send it in async batches that close on item count
// and on Toloka's per-request byte budgets, with bounded concurrency, memory
// that does not grow with the input, and pacing under the documented
// quotas. Each item's outcome is reported by its position in the input
// through OnResult. To resume after a crash or an *UploadError, run the same
// call again with the same WithUploadID, input and options: batch operation
// ids derive from the upload id, so existing operations are picked up and
// nothing is created twice.
//
// Partial success is never an error: with CreateOptions{SkipInvalidItems:
// true} Toloka creates the valid items and reports the others by index
// (BatchResult.ValidationErrors); BatchResult.Err turns that into an error
// for fail-fast callers. Items the SDK's own validation rejects are then not
// sent, and are reported at their index too.
//
// # Validation before sending
//
// Every create call checks its items before anything is sent and reports
// every problem at once in one *ValidationError; each FieldError names the
// item's index, a field path as Toloka writes it ("input_values.image",
// "known_solutions.0.output_values.color", "tasks.0.input_values.x" in a
// suite), a code and how to fix it. Three groups of rules run:
//
//   - Field rules (toloka-api.md §4, §5, §7.6): pool_id and non-empty
//     input_values, overlap 1..30000 or infinite and required unless the call
//     allows pool defaults, weights 0..1, issuing_order_override range,
//     latitude with longitude, unique reserved_for / unavailable_for, and the
//     per-request byte budgets of all input_values and output_values.
//   - Pool rules (§7, §16), from GET /pools/{id} (falling back to
//     GET /trainings/{id} on 404), cached per client: see the codes below.
//   - task_spec rules (§14.3), from GET /projects/{id} of each pool, cached:
//     required and unknown fields, type, length, range, allowed values,
//     pattern, array sizes, url and coordinates syntax. These are advisory
//     (§14.1): a pool created before a breaking edit of its project validates
//     against the older version, which the API cannot tell us. Several of
//     their codes are inferred (§14.3), so where Toloka's behaviour is
//     unknown they lean towards accepting: lengths hold under either Java's
//     UTF-16 count or code points, a pattern must match somewhere in the
//     value, Java-only pattern syntax and unknown field types are skipped.
//     SkipSpecChecks turns them off per call.
//
// SkipLookups (per call) or WithoutLookups (per client) trusts the server
// for what only lookups can tell; WithPool and WithProject supply them;
// SkipValidation skips the checks; ValidateTasks runs them alone, for dry
// runs. CheckTasks and CheckTaskSuites are the pure rules, shared with the
// tolokatest fake so that the two never disagree.
//
// Codes of the pool rules. Toloka documents no trigger for them (§7.4, §7.5,
// §16.2 call them inferred); the SDK uses the codes of Toloka's own code list
// whose names fit best, so callers can match on them:
//
//   - MIXER_CONFIG_REQUIRED on pool_id: a task for a pool without smart
//     mixing that is not a training pool.
//   - POOL_TASK_TYPE_CONFLICT on pool_id: a task suite for a pool with smart
//     mixing; a general task for a mixer that issues no general tasks.
//   - POOL_TASK_TYPE_CONFLICT on known_solutions: a control task for a mixer
//     that issues no control tasks; a general task (or suite task) for a
//     zero-price pool, which takes only control and training tasks.
//   - POOL_TASK_TYPE_CONFLICT on message_on_unknown_solution: a training task
//     for a mixer that issues no training tasks.
//   - POOL_IS_TRAINING on known_solutions or message_on_unknown_solution: a
//     task that is not a training task, for a training pool.
//   - POOL_INAPPROPRIATE_STATUS on pool_id: the pool is archived.
//   - ENTITY_DOES_NOT_EXIST on pool_id: neither a pool nor a training has
//     that id.
//   - VALUE_REQUIRED on overlap: the call allows defaults but the pool has no
//     default overlap for the item's kind.
//   - VALUE_REQUIRED on latitude: a suite of a MAP_SELECTOR project without
//     a location.
//
// # Retries
//
// Every request goes through one retry loop: network errors and HTTP
// 408/429/500/502/503/504 are retried with exponential backoff and full
// jitter (DefaultRetryPolicy: 4 retries, that is 5 attempts). Retry-After is
// honoured in seconds or HTTP-date form, capped at RetryPolicy.MaxDelay. A
// per-minute quota 429 (payload.interval "MIN", §17) is waited out up to
// RetryPolicy.MaxQuotaWait; hourly and daily quotas return a
// *RateLimitError at once. Sleeps end when ctx is done. Reads and async
// creates are always safe to resend; sync creates only when the request
// cannot have reached Toloka (a failed dial) or on a 429.
//
// # Errors
//
// Every non-2xx response is an *APIError (errors.As) carrying the HTTP
// status, Toloka's code, message, request_id and payload; errors.Is matches
// it against the sentinel families ErrNotFound, ErrAccessDenied,
// ErrUnauthorized, ErrConflict, ErrValidation, ErrRateLimited,
// ErrServerUnavailable and ErrTooLarge. A body that is not Toloka's JSON (an
// HTML page from a proxy) still yields an *APIError with a bounded excerpt.
// Problems found before sending come as a *ValidationError. Both carry
// FieldError values, one type for problems found by the client, in a sync
// batch result, in an operation log or in a 400 payload; FieldError.Path
// renders "tasks[3].input_values.image".
//
// # Testing
//
// Package tolokatest is an in-memory Toloka over real HTTP on 127.0.0.1,
// shaped like net/http/httptest, with the same validation as this package,
// controllable operation pace, quotas and fault injection; its Client method
// returns a *Client pointed at it. For unit tests of your own code you can
// also pass any http.RoundTripper, such as httpmock's MockTransport, with
// WithTransport.
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
//     documents it, Toloka does not); async requests are capped at Toloka's
//     recommended 10,000 items (§2.5).
//   - Any 2xx answers an async create (§2.2: 201 documented, 202 seen).
//   - An operation log is read as a JSON array (§6.2); an entry whose
//     __item_idx is missing or out of range is reported as unmatched, never
//     dropped; entries about no single item (POOL_OPEN) are kept apart.
//   - The *AndWait calls build the created objects from the submitted ones
//     and the ids in the log, without reading them back; WithReadBack reads
//     them with GET /tasks?pool_id=&id_gte=&id_lte=&sort=id&limit=10000,
//     falling back to limit=300 if Toloka refuses it (§15.1).
//   - Quotas are counted in items, not requests (§17.4), and a 429 without
//     payload.interval is a short-term throttle (§17.2).
package toloka
