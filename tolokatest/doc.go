// Package tolokatest is an in-memory Toloka for tests, examples and
// benchmarks: a real HTTP server on 127.0.0.1, shaped like net/http/httptest,
// that implements the upload-related API of toloka-api.md with Toloka's
// status codes, error bodies and validation.
//
//	s := tolokatest.NewServerT(t)           // closed when the test ends
//	s.AddProject(toloka.Project{ID: "1", TaskSpec: spec})
//	s.AddPool(toloka.Pool{ID: "21", ProjectID: "1", MixerConfig: &toloka.MixerConfig{RealTasksCount: 5}})
//	client, _ := s.Client()                 // a *toloka.Client pointed at s
//	... code under test uploads with client ...
//	tasks := s.Tasks("21")                  // assert on what was stored
//
// Servers share nothing, so tests using them run in parallel. The standalone
// command cmd/tolokafake serves the same fake for other tools and languages;
// toloka-kit works with it under its defaults (paths under /api/v1, ApiKey or
// OAuth headers, async uploads with operation_id and "__item_idx").
//
// # What it serves
//
// POST /tasks and /task-suites (one object or an array; sync and async;
// allow_defaults, skip_invalid_items, open_pool, operation_id);
// GET /operations, /operations/{id}, /operations/{id}/log; GET /pools/{id},
// POST /pools/{id}/open; GET /projects/{id}, /trainings/{id}; GET /tasks,
// /tasks/{id}, /task-suites, /task-suites/{id} with the id, created and
// overlap filters, sort, limit and has_more of §15.
//
// Items are judged by the SDK's own checks, toloka.CheckTasks and
// toloka.CheckTaskSuites, fed with the server's pools and projects, so the
// client and the fake cannot disagree about a rule. The server adds only what
// a server alone knows: whether the pool exists, baseline_solutions hidden in
// a suite's tasks (which the SDK's types cannot carry), the effective
// overlap, item caps, authentication, operation ids, quotas and rate limits.
//
// # State, time and faults
//
// Seed with AddProject, AddPool, AddTraining, AddTasks, AddTaskSuites, or a
// JSON fixture (Seed, LoadFixtures, LoadFixturesFile); inspect with Tasks,
// TaskSuites, TaskCount, Pool, Operations, RequestCount and RequestCounts.
// Tasks are kept as their JSON in large pointer-free chunks, so a million
// tasks cost about 290 bytes each and nothing to the garbage collector.
//
// Async operations run at the Pace set by WithPace or SetPace: finished
// before the create call answers (default), after N reads of the operation,
// or when AdvanceOperations / FinishOperations says so. Nothing sleeps.
//
// WithClock takes a ManualClock (advanced by the test) or a ScaledClock (a
// minute can last 100 ms) for timestamps, WithRateLimit and the item quotas
// of WithTaskQuota / WithSuiteQuota. InjectFault fails the next N requests to
// a route with an error status, an HTML page, a dropped connection before or
// after the request is applied, a truncated body, or latency (through
// WithSleeper, so tests stay sleep-free); WithRandomFaults draws faults from
// a seeded generator, reproducibly.
//
// # Behaviour chosen where the contract is silent
//
// Where toloka-api.md marks a behaviour inferred or open, the fake does the
// following. Switchable ones name their option.
//
//   - A sync array with an invalid item and skip_invalid_items=false creates
//     nothing and answers 400 VALIDATION_ERROR whose payload maps each
//     rejected index to its field errors (§2.3). A single invalid object
//     answers 400 with the field map itself as payload (§10.9).
//   - A sync array under skip_invalid_items in which every item is invalid
//     answers 201 with empty "items" and all "validation_errors" (§13 q1);
//     WithRejectEmptySyncBatch makes it a 400 as above.
//   - An async create answers 201 (§2.2); WithAsyncStatus(202) gives what
//     toloka-java-sdk expects.
//   - Items are validated when the request arrives and stored when the
//     operation finishes. An all-or-nothing failure ends FAIL with
//     failed_count = total_count, and its log lists only the invalid items
//     (TASK_VALIDATE); a skip_invalid_items operation ends SUCCESS even if
//     nothing was valid (§2.4). The log is [] until the operation finishes,
//     and lists items in request order, then POOL_OPEN entries (§6.2).
//   - open_pool opens each closed pool the request named; asynchronously it
//     logs POOL_OPEN, which fails with EMPTY_POOL for a pool left empty.
//     POST /pools/{id}/open answers 204 when open, 409 INAPPROPRIATE_STATUS
//     when archived or locked, else 202 with a POOL.OPEN operation that fails
//     for an empty pool (§7.5).
//   - operation_id must be a UUID (400 UUID_EXPECTED otherwise); a repeat
//     answers 409 OPERATION_ALREADY_EXISTS (§2.4, §13 q5). Sync requests
//     ignore it, as toloka-kit sends one anyway.
//   - A pool that does not exist is a per-item error pool_id
//     ENTITY_DOES_NOT_EXIST (§14.3).
//   - Overlap: an item's own overlap wins; with allow_defaults the pool's
//     default_overlap_for_new_tasks (…_task_suites for suites) applies, a
//     training without defaults gives tasks infinite overlap (§16.2); with
//     neither, overlap VALUE_REQUIRED (§13 q8).
//   - The 5,000-item cap applies to sync suites too (§3.3), answering 413
//     ENTITY_TOO_LARGE; async requests have no cap (WithMaxSyncItems,
//     WithMaxAsyncItems). Bodies over 256 MiB answer 413 (WithMaxBodyBytes).
//   - The byte budgets of §2.5 come from CheckTasks as request-level errors
//     and answer 400 VALIDATION_ERROR with payload
//     {"input_values": {"code": "OBJECT_SIZE_BYTES_GREATER_THAN_MAX", ...}}.
//   - Items that do not decode get per-field codes STRING_EXPECTED,
//     INTEGER_EXPECTED, FLOAT_EXPECTED, BOOLEAN_EXPECTED, ARRAY_EXPECTED or
//     OBJECT_EXPECTED (§8.3); an item that is not an object gets
//     OBJECT_EXPECTED on the empty path. Unknown top-level keys (toloka-kit's
//     "__item_idx") are accepted, echoed in the log, and not stored.
//   - A missing or malformed Authorization, or a wrong ApiKey, answers 401
//     AUTHENTICATION_ERROR; a wrong OAuth token 401
//     OAUTH_AUTHENTICATION_ERROR; WithReadOnlyCredential adds a credential
//     whose writes answer 403 ACCESS_DENIED (§8.2). POST without
//     application/json answers 415.
//   - Quotas count items, at submission, sync and async alike (§17.4); a
//     request refused as a whole (item cap, byte budget) spends none;
//     over a quota: 429 TOO_MANY_REQUESTS with payload.interval "MIN" or
//     "DAY" and Retry-After to the end of the window; over WithRateLimit: 429
//     without payload (§17.2). Retry-After is in real seconds, at least 1.
//   - Lists: default limit 50, at most 100,000 (500 for operations;
//     WithMaxListLimit); sort defaults to id; GET /tasks needs pool_id,
//     GET /task-suites pool_id or task_id (§15). Tasks inside suites get ids
//     but are not listed by GET /tasks.
//   - Ids: pools and trainings share one id space. Task and suite ids look
//     like Toloka's ("0000000015--0000…0001": the pool in hex, then a
//     sequence), sort as strings in creation order within a pool, and are
//     deterministic; operation and request ids are UUIDs drawn from WithSeed.
//   - Timestamps are UTC with milliseconds. New pools start CLOSED with
//     default_overlap_for_new_task_suites 1 unless given; projects ACTIVE.
package tolokatest
