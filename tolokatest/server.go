package tolokatest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotoloka/toloka"
)

// APIPrefix is the path under which the fake serves the API, as Toloka does
// (toloka-api.md §1.1). URL returns the server root plus this prefix.
const APIPrefix = "/api/v1"

// DefaultCredential is the credential a server accepts unless WithCredential
// says otherwise. It is not a secret: it only opens the fake.
const DefaultCredential = "tolokatest-credential"

// Server is an in-memory Toloka on 127.0.0.1. It is safe for concurrent use,
// and many servers can run in one process: they share nothing.
type Server struct {
	cfg   config
	ts    *httptest.Server
	clock Clock

	mu     sync.Mutex
	st     *state
	counts map[routeStatus]int
	faults faultQueue
	random *randomFaults
	limits *limiter
	reqSeq uint64
}

type routeStatus struct {
	route  string
	status int
}

// config holds what the options set.
type config struct {
	credential         string
	readOnlyCredential string
	clock              Clock
	sleep              func(context.Context, time.Duration) error
	pace               Pace
	asyncStatus        int
	seed               uint64
	maxSyncItems       int
	maxAsyncItems      int
	maxBodyBytes       int64
	maxListLimit       int
	rejectEmptySync    bool
	requestsPerSecond  int
	taskQuota          Quota
	suiteQuota         Quota
	randomFaults       *FaultRates
	randomFaultSeed    uint64
	listenAddr         string
}

// Option configures a Server in NewServer.
type Option func(*config)

func defaultConfig() config {
	return config{
		credential:   DefaultCredential,
		clock:        systemClock{},
		sleep:        sleepCtx,
		pace:         FinishImmediately(),
		asyncStatus:  http.StatusCreated,
		seed:         1,
		maxSyncItems: toloka.MaxSyncBatch,
		maxBodyBytes: 256 << 20,
		maxListLimit: 100_000,
	}
}

// WithCredential sets the API key or OAuth token the server accepts, with
// either scheme ("ApiKey <c>" or "OAuth <c>", toloka-api.md §1.2).
func WithCredential(c string) Option { return func(cfg *config) { cfg.credential = c } }

// WithReadOnlyCredential adds a second credential that may read but not
// write: its POST requests answer 403 ACCESS_DENIED (toloka-api.md §8.2).
func WithReadOnlyCredential(c string) Option {
	return func(cfg *config) { cfg.readOnlyCredential = c }
}

// WithClock sets the clock behind timestamps, rate limits and quotas; see
// ManualClock and ScaledClock.
func WithClock(c Clock) Option { return func(cfg *config) { cfg.clock = c } }

// WithSleeper replaces the real wait behind injected latency, so tests can
// observe it without sleeping.
func WithSleeper(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(cfg *config) { cfg.sleep = sleep }
}

// WithPace sets how fast async operations finish (FinishImmediately by default).
func WithPace(p Pace) Option { return func(cfg *config) { cfg.pace = p } }

// WithAsyncStatus sets the status of an accepted async create: 201, as the
// API reference says (the default), or 202, which toloka-java-sdk demands
// (toloka-api.md §2.2).
func WithAsyncStatus(status int) Option { return func(cfg *config) { cfg.asyncStatus = status } }

// WithSeed seeds the generator behind operation ids and request ids, so two
// servers with the same seed and the same requests answer the same.
func WithSeed(seed uint64) Option { return func(cfg *config) { cfg.seed = seed } }

// WithMaxSyncItems changes the item cap of a synchronous create (5,000,
// toloka-api.md §2.5); above it the server answers 413 ENTITY_TOO_LARGE.
func WithMaxSyncItems(n int) Option { return func(cfg *config) { cfg.maxSyncItems = n } }

// WithMaxAsyncItems caps the items of an async create (413 above it). Toloka
// documents no cap (§2.5), so the default is none.
func WithMaxAsyncItems(n int) Option { return func(cfg *config) { cfg.maxAsyncItems = n } }

// WithMaxBodyBytes caps a request body (default 256 MiB; 413 above it).
func WithMaxBodyBytes(n int64) Option { return func(cfg *config) { cfg.maxBodyBytes = n } }

// WithMaxListLimit sets the largest "limit" the list endpoints accept
// (default 100,000 as toloka-kit documents; the API overview says 300,
// toloka-api.md §15.1). A larger limit answers 400.
func WithMaxListLimit(n int) Option { return func(cfg *config) { cfg.maxListLimit = n } }

// WithRejectEmptySyncBatch makes a sync batch under skip_invalid_items that
// creates nothing answer 400 VALIDATION_ERROR (as toloka-kit's emulation
// does) instead of 201 with only validation_errors (toloka-api.md §2.3,
// §13 question 1).
func WithRejectEmptySyncBatch() Option { return func(cfg *config) { cfg.rejectEmptySync = true } }

// WithListenAddr makes NewServer listen on addr instead of a random
// 127.0.0.1 port; the standalone tolokafake uses it.
func WithListenAddr(addr string) Option { return func(cfg *config) { cfg.listenAddr = addr } }

// NewServer starts a fake Toloka on 127.0.0.1 and returns it; Close stops it.
// It panics when it cannot listen, as httptest.NewServer does.
func NewServer(opts ...Option) *Server {
	s, err := Listen(opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// Listen is NewServer returning the listen error instead of panicking.
func Listen(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.clock == nil {
		cfg.clock = systemClock{}
	}
	if cfg.sleep == nil {
		cfg.sleep = sleepCtx
	}
	s := &Server{
		cfg:    cfg,
		clock:  cfg.clock,
		st:     newState(cfg.seed),
		counts: map[routeStatus]int{},
	}
	s.limits = newLimiter(cfg)
	if cfg.randomFaults != nil {
		s.random = newRandomFaults(cfg.randomFaultSeed, *cfg.randomFaults)
	}
	s.ts = httptest.NewUnstartedServer(s)
	if cfg.listenAddr != "" {
		ln, err := net.Listen("tcp", cfg.listenAddr)
		if err != nil {
			return nil, fmt.Errorf("tolokatest: listening on %s: %w", cfg.listenAddr, err)
		}
		s.ts.Listener.Close()
		s.ts.Listener = ln
	}
	s.ts.Start()
	return s, nil
}

// NewServerT starts a server for a test and closes it when the test ends.
func NewServerT(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and closes its connections.
func (s *Server) Close() { s.ts.Close() }

// URL returns the API base URL, e.g. "http://127.0.0.1:41234/api/v1": what
// toloka.WithBaseURL takes.
func (s *Server) URL() string { return s.ts.URL + APIPrefix }

// RootURL returns the server root without the API prefix: what toloka-kit's
// url parameter takes, since it appends /api/v1 itself.
func (s *Server) RootURL() string { return s.ts.URL }

// Credential returns the credential the server accepts.
func (s *Server) Credential() string { return s.cfg.credential }

// HTTPClient returns an *http.Client wired to the server.
func (s *Server) HTTPClient() *http.Client { return s.ts.Client() }

// Client returns a toloka.Client pointed at the server with its credential.
// Options given here are applied after those and may override them.
func (s *Server) Client(opts ...toloka.Option) (*toloka.Client, error) {
	base := []toloka.Option{
		toloka.WithBaseURL(s.URL()),
		toloka.WithAPIKey(s.cfg.credential),
		toloka.WithHTTPClient(s.ts.Client()),
	}
	return toloka.NewClient(append(base, opts...)...)
}

// response is a handler's answer, built in memory so that faults can drop or
// cut it after the request was applied.
type response struct {
	status     int
	body       []byte
	retryAfter time.Duration
	html       bool
}

// ServeHTTP makes the server an http.Handler, so it can also be mounted on
// another listener.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, params := matchRoute(r.Method, r.URL.Path)
	s.mu.Lock()
	s.reqSeq++
	reqSeq := s.reqSeq
	fault, hasFault := s.faults.take(route)
	if !hasFault && s.random != nil {
		fault, hasFault = s.random.draw(route)
	}
	s.mu.Unlock()

	if hasFault && fault.latency > 0 {
		if err := s.cfg.sleep(r.Context(), fault.latency); err != nil {
			s.count(route, 0)
			dropConnection(w) // the client gave up while we waited
			return
		}
	}
	if hasFault && fault.kind == faultDropBefore {
		s.count(route, 0)
		dropConnection(w)
		return
	}
	var resp response
	if hasFault && fault.kind == faultStatus {
		resp = s.faultResponse(fault, reqSeq)
	} else {
		resp = s.handle(r, route, params, reqSeq)
	}
	if hasFault && fault.kind == faultDropAfter {
		s.count(route, resp.status)
		dropConnection(w)
		return
	}
	if hasFault && fault.kind == faultTruncate && len(resp.body) > 1 {
		resp.body = resp.body[:len(resp.body)/2]
	}
	s.count(route, resp.status)
	writeResponse(w, resp)
}

func (s *Server) count(route string, status int) {
	s.mu.Lock()
	s.counts[routeStatus{route, status}]++
	s.mu.Unlock()
}

func writeResponse(w http.ResponseWriter, resp response) {
	h := w.Header()
	if resp.html {
		h.Set("Content-Type", "text/html; charset=utf-8")
	} else if len(resp.body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	if resp.retryAfter > 0 {
		secs := int64((resp.retryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", fmt.Sprint(secs))
	}
	h.Set("Content-Length", fmt.Sprint(len(resp.body)))
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// handle authenticates, rate-limits and routes one request.
func (s *Server) handle(r *http.Request, route string, params []string, reqSeq uint64) response {
	if route == "" {
		return s.errorResponse(reqSeq, apiError{status: http.StatusNotFound, code: toloka.CodeNotFound, message: "Unknown path " + r.URL.Path})
	}
	if strings.HasPrefix(route, "405 ") {
		return s.errorResponse(reqSeq, apiError{status: http.StatusMethodNotAllowed, code: toloka.CodeMethodNotAllowed, message: "Method " + r.Method + " is not allowed here"})
	}
	if e := s.authenticate(r); e != nil {
		return s.errorResponse(reqSeq, *e)
	}
	if e := s.limits.request(s.clock.Now()); e != nil {
		return s.errorResponse(reqSeq, *e)
	}
	var body []byte
	if r.Method == http.MethodPost {
		if ct := r.Header.Get("Content-Type"); r.ContentLength != 0 && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
			return s.errorResponse(reqSeq, apiError{status: http.StatusUnsupportedMediaType, code: toloka.CodeUnsupportedMediaType, message: "Content-Type must be application/json"})
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.maxBodyBytes+1))
		if err != nil {
			return s.errorResponse(reqSeq, apiError{status: http.StatusBadRequest, code: toloka.CodeValidationError, message: "Could not read the request body"})
		}
		if int64(len(data)) > s.cfg.maxBodyBytes {
			return s.errorResponse(reqSeq, apiError{status: http.StatusRequestEntityTooLarge, code: toloka.CodeEntityTooLarge, message: fmt.Sprintf("Request body exceeds %d bytes", s.cfg.maxBodyBytes)})
		}
		body = data
	}
	ans, e := s.dispatch(r, route, params, body)
	if e != nil {
		return s.errorResponse(reqSeq, *e)
	}
	return ans
}

func (s *Server) dispatch(r *http.Request, route string, params []string, body []byte) (response, *apiError) {
	q := r.URL.Query()
	switch route {
	case RouteCreateTasks:
		return s.create(kindTask, q, body)
	case RouteCreateTaskSuites:
		return s.create(kindSuite, q, body)
	case RouteGetOperation:
		return s.getOperation(params[0])
	case RouteGetOperationLog:
		return s.getOperationLog(params[0])
	case RouteListOperations:
		return s.listOperations(q)
	case RouteGetPool:
		return s.getPool(params[0])
	case RouteOpenPool:
		return s.openPool(params[0])
	case RouteGetProject:
		return s.getProject(params[0])
	case RouteGetTraining:
		return s.getTraining(params[0])
	case RouteGetTask:
		return s.getItem(kindTask, params[0])
	case RouteGetTaskSuite:
		return s.getItem(kindSuite, params[0])
	case RouteListTasks:
		return s.listItems(kindTask, q)
	case RouteListTaskSuites:
		return s.listItems(kindSuite, q)
	}
	return response{}, &apiError{status: http.StatusNotFound, code: toloka.CodeNotFound, message: "Unknown route"}
}

// authenticate checks the Authorization header (toloka-api.md §1.2, §8.2).
func (s *Server) authenticate(r *http.Request) *apiError {
	scheme, value, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	value = strings.TrimSpace(value)
	code := toloka.CodeAuthenticationError
	if strings.EqualFold(scheme, "OAuth") {
		code = toloka.CodeOAuthAuthenticationError
	}
	if !strings.EqualFold(scheme, "ApiKey") && !strings.EqualFold(scheme, "OAuth") || value == "" {
		return &apiError{status: http.StatusUnauthorized, code: toloka.CodeAuthenticationError, message: "Authorization header with an ApiKey or OAuth credential is required"}
	}
	switch {
	case value == s.cfg.credential:
		return nil
	case s.cfg.readOnlyCredential != "" && value == s.cfg.readOnlyCredential:
		if r.Method != http.MethodGet {
			return &apiError{status: http.StatusForbidden, code: toloka.CodeAccessDenied, message: "Access denied"}
		}
		return nil
	}
	return &apiError{status: http.StatusUnauthorized, code: code, message: "Invalid credential"}
}

// Routes, as counted by RequestCount and targeted by faults. RouteAny
// matches every request in InjectFault.
const (
	RouteAny              = "*"
	RouteCreateTasks      = "POST /tasks"
	RouteCreateTaskSuites = "POST /task-suites"
	RouteListTasks        = "GET /tasks"
	RouteGetTask          = "GET /tasks/{id}"
	RouteListTaskSuites   = "GET /task-suites"
	RouteGetTaskSuite     = "GET /task-suites/{id}"
	RouteListOperations   = "GET /operations"
	RouteGetOperation     = "GET /operations/{id}"
	RouteGetOperationLog  = "GET /operations/{id}/log"
	RouteGetPool          = "GET /pools/{id}"
	RouteOpenPool         = "POST /pools/{id}/open"
	RouteGetProject       = "GET /projects/{id}"
	RouteGetTraining      = "GET /trainings/{id}"
)

// matchRoute maps a request to its route and path parameters. An unknown
// path gives "", a known path with the wrong method "405 <path>".
func matchRoute(method, path string) (string, []string) {
	rest, ok := strings.CutPrefix(path, APIPrefix)
	if !ok {
		return "", nil
	}
	rest = strings.Trim(rest, "/")
	segs := strings.Split(rest, "/")
	var pattern string
	var params []string
	switch {
	case len(segs) == 1:
		pattern = "/" + segs[0]
	case len(segs) == 2:
		pattern, params = "/"+segs[0]+"/{id}", segs[1:2]
	case len(segs) == 3:
		pattern, params = "/"+segs[0]+"/{id}/"+segs[2], segs[1:2]
	default:
		return "", nil
	}
	var candidates []string
	for _, r := range allRoutes() {
		if _, p, _ := strings.Cut(r, " "); p == pattern {
			candidates = append(candidates, r)
		}
	}
	for _, c := range candidates {
		if strings.HasPrefix(c, method+" ") {
			return c, params
		}
	}
	if len(candidates) > 0 {
		return "405 " + pattern, nil
	}
	return "", nil
}

func allRoutes() [13]string {
	return [...]string{
		RouteCreateTasks, RouteCreateTaskSuites, RouteListTasks, RouteGetTask, RouteListTaskSuites,
		RouteGetTaskSuite, RouteListOperations, RouteGetOperation, RouteGetOperationLog, RouteGetPool,
		RouteOpenPool, RouteGetProject, RouteGetTraining,
	}
}

// RequestCount returns how many requests to route were answered with status.
// A connection dropped before the request was applied counts with status 0.
func (s *Server) RequestCount(route string, status int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[routeStatus{route, status}]
}

// RequestCounts returns every route's count by status, e.g.
// {"POST /tasks": {201: 3, 400: 1}}.
func (s *Server) RequestCounts() map[string]map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[int]int{}
	for k, n := range s.counts {
		if out[k.route] == nil {
			out[k.route] = map[int]int{}
		}
		out[k.route][k.status] = n
	}
	return out
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
