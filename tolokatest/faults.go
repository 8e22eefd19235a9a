package tolokatest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/gotoloka/toloka"
)

type faultKind int

const (
	faultStatus     faultKind = iota + 1 // answer with an error status
	faultDropBefore                      // close the connection, request not applied
	faultDropAfter                       // apply, then close without answering
	faultTruncate                        // apply, answer with half the body
	faultLatency                         // wait, then handle normally
)

// Fault is one injected failure; build it with ErrorStatus, HTMLError,
// DropBeforeApply, DropAfterApply, TruncatedBody or Latency.
type Fault struct {
	kind       faultKind
	status     int
	html       bool
	retryAfter time.Duration
	latency    time.Duration
}

// String names the fault, for FaultEvents and test messages.
func (f Fault) String() string {
	switch f.kind {
	case faultStatus:
		if f.html {
			return fmt.Sprintf("html %d", f.status)
		}
		return fmt.Sprintf("status %d", f.status)
	case faultDropBefore:
		return "drop before apply"
	case faultDropAfter:
		return "drop after apply"
	case faultTruncate:
		return "truncated body"
	case faultLatency:
		return fmt.Sprintf("latency %s", f.latency)
	}
	return "none"
}

// ErrorStatus answers with status (500, 502, 503, 504, 429, ...) and
// Toloka's error body for it, without applying the request. A 429 or 503
// carries retryAfter as Retry-After when it is positive.
func ErrorStatus(status int, retryAfter time.Duration) Fault {
	return Fault{kind: faultStatus, status: status, retryAfter: retryAfter}
}

// HTMLError answers with status and an HTML page, as a proxy in front of
// Toloka would; the request is not applied.
func HTMLError(status int) Fault { return Fault{kind: faultStatus, status: status, html: true} }

// DropBeforeApply closes the connection without applying the request.
func DropBeforeApply() Fault { return Fault{kind: faultDropBefore} }

// DropAfterApply applies the request, then closes the connection without
// answering: the client cannot tell whether it was applied.
func DropAfterApply() Fault { return Fault{kind: faultDropAfter} }

// TruncatedBody applies the request and answers with its real status but
// only the first half of the body, so the JSON does not parse.
func TruncatedBody() Fault { return Fault{kind: faultTruncate} }

// Latency delays the request by d through the server's sleeper (see
// WithSleeper), then handles it normally.
func Latency(d time.Duration) Fault { return Fault{kind: faultLatency, latency: d} }

type pendingFault struct {
	route string
	left  int
	fault Fault
}

// faultQueue holds injected faults in the order they were injected.
type faultQueue struct {
	pending []pendingFault
}

func (q *faultQueue) take(route string) (Fault, bool) {
	for i := range q.pending {
		p := &q.pending[i]
		if p.left > 0 && (p.route == RouteAny || p.route == route) {
			p.left--
			f := p.fault
			if p.left == 0 {
				q.pending = append(q.pending[:i], q.pending[i+1:]...)
			}
			return f, true
		}
	}
	return Fault{}, false
}

// InjectFault makes the next n requests to route (RouteAny for all) fail with
// f. Faults injected earlier are served first.
func (s *Server) InjectFault(route string, n int, f Fault) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.pending = append(s.faults.pending, pendingFault{route: route, left: n, fault: f})
}

// ClearFaults drops every injected fault that has not fired yet.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.pending = nil
}

// FaultRates are the chances (0 to 1) that a request meets each fault, for
// soak tests. At most one fault hits a request; rates are tried in the order
// of the fields.
type FaultRates struct {
	// Status is the chance of an error status, picked evenly from
	// 500, 502, 503, 504 and 429.
	Status float64
	// HTML is the chance of an HTML 502 page.
	HTML float64
	// DropBefore and DropAfter are the chances of a closed connection before
	// and after the request is applied.
	DropBefore float64
	DropAfter  float64
	// Truncated is the chance of a cut response body.
	Truncated float64
	// Latency is the chance of a delay of up to MaxLatency.
	Latency    float64
	MaxLatency time.Duration
}

// WithRandomFaults injects faults at random with the given rates. The draws
// come from a generator seeded with seed, one per request in arrival order,
// so the same seed and the same sequence of requests meet the same faults;
// FaultEvents lists them.
func WithRandomFaults(seed uint64, rates FaultRates) Option {
	return func(cfg *config) {
		r := rates
		cfg.randomFaults = &r
		cfg.randomFaultSeed = seed
	}
}

// FaultEvent is one random fault that hit a request.
type FaultEvent struct {
	// Request is the request's number on the server, from 1.
	Request uint64
	Route   string
	Fault   Fault
}

type randomFaults struct {
	rng    *rand.Rand
	rates  FaultRates
	n      uint64
	events []FaultEvent
}

func newRandomFaults(seed uint64, rates FaultRates) *randomFaults {
	return &randomFaults{rng: rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d)), rates: rates}
}

// draw picks the fault of the next request, if any; the caller holds the lock.
func (r *randomFaults) draw(route string) (Fault, bool) {
	r.n++
	x := r.rng.Float64()
	pick := r.rng.Uint64()
	var f Fault
	acc := 0.0
	switch {
	case x < r.acc(&acc, r.rates.Status):
		statuses := [...]int{500, 502, 503, 504, 429}
		f = ErrorStatus(statuses[pick%uint64(len(statuses))], time.Second)
	case x < r.acc(&acc, r.rates.HTML):
		f = HTMLError(http.StatusBadGateway)
	case x < r.acc(&acc, r.rates.DropBefore):
		f = DropBeforeApply()
	case x < r.acc(&acc, r.rates.DropAfter):
		f = DropAfterApply()
	case x < r.acc(&acc, r.rates.Truncated):
		f = TruncatedBody()
	case x < r.acc(&acc, r.rates.Latency) && r.rates.MaxLatency > 0:
		f = Latency(time.Duration(pick % uint64(r.rates.MaxLatency)))
	default:
		return Fault{}, false
	}
	r.events = append(r.events, FaultEvent{Request: r.n, Route: route, Fault: f})
	return f, true
}

func (r *randomFaults) acc(sum *float64, rate float64) float64 {
	*sum += rate
	return *sum
}

// FaultEvents returns the random faults served so far, in order.
func (s *Server) FaultEvents() []FaultEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.random == nil {
		return nil
	}
	return append([]FaultEvent(nil), s.random.events...)
}

// faultResponse renders an error-status fault: Toloka's body for the status
// (toloka-api.md §8.2, §10.9), or an HTML page.
func (s *Server) faultResponse(f Fault, reqSeq uint64) response {
	if f.html {
		page := fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
			f.status, http.StatusText(f.status), f.status, http.StatusText(f.status))
		return response{status: f.status, body: []byte(page), html: true}
	}
	e := apiError{status: f.status, retryAfter: f.retryAfter}
	switch f.status {
	case http.StatusTooManyRequests:
		e.code, e.message = toloka.CodeTooManyRequests, "Too many requests"
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		e.code, e.message = toloka.CodeRemoteServiceUnavailable, "Service is temporary unavailable"
	case http.StatusInternalServerError:
		e.code, e.message = toloka.CodeInternalError, "Internal Error"
	default:
		e.code, e.message = "INJECTED_FAULT", http.StatusText(f.status)
	}
	return s.errorResponse(reqSeq, e)
}
