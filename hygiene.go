package toloka

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// defaultResponseHeaderTimeout bounds the wait for a response's headers on
// the default transport, so a connection that went silent fails (and is
// retried) instead of hanging until ctx ends. Two minutes leaves room for a
// 5,000-item sync create, and matches the Java SDK's 120 s socket timeout
// (toloka-api.md §9.2). It does not limit reading a long body.
const defaultResponseHeaderTimeout = 2 * time.Minute

// WithLogger logs one debug line per request attempt to l: method, path,
// status, attempt number, the delay before the next attempt, request_id and
// the outcome. Bodies, headers and the credential are never logged. Without
// it the client is silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		if l == nil {
			return errors.New("toloka: nil *slog.Logger; leave WithLogger out for a silent client")
		}
		c.logger = l
		return nil
	}
}

// WithRequestTimeout bounds each attempt of a request — sending it, waiting
// for the answer and reading the body — to d; an attempt that runs out is
// retried like a network error. The call's ctx still bounds the whole call,
// retries and waits included. 0 (the default) sets no per-attempt bound. For
// streamed responses the bound runs until the body is closed.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("toloka: negative request timeout %s", d)
		}
		c.attemptTimeout = d
		return nil
	}
}

// WithInsecureHTTP allows a plain http:// base URL on a host other than
// loopback. Without it NewClient refuses one, because the credential would
// cross the network in clear text. Loopback hosts (127.0.0.0/8, ::1,
// localhost), where tolokatest runs, never need it.
func WithInsecureHTTP() Option {
	return func(c *Client) error {
		c.allowInsecureHTTP = true
		return nil
	}
}

// initTransport finishes NewClient: it checks the base URL's scheme, installs
// the default HTTP client and the redirect guard, and fills the retry loop's
// clock, sleeper and random source.
func (c *Client) initTransport() error {
	if !c.allowInsecureHTTP {
		if u, err := url.Parse(c.baseURL); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
			return fmt.Errorf("toloka: base URL %s is plain http:// on a non-loopback host, which would send the credential in clear text: use https://, or pass WithInsecureHTTP on a trusted network", c.baseURL)
		}
	}
	if c.httpClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = defaultResponseHeaderTimeout
		c.httpClient = &http.Client{Transport: tr}
	}
	c.httpClient.CheckRedirect = c.redirectGuard(c.httpClient.CheckRedirect)
	if c.maxBody == 0 {
		c.maxBody = maxSuccessBody
	}
	if c.sleep == nil {
		c.sleep = sleepContext
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.random == nil {
		c.random = rand.Float64
	}
	return nil
}

// isLoopback reports whether host (without port) is a loopback address or
// the name localhost.
func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirectError is a redirect the client refused to follow.
type redirectError struct {
	from, to string // scheme://host only: no path, query or credential
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("refusing to follow a redirect from %s to %s: the credential is sent only to the API host over the same or a safer scheme", e.from, e.to)
}

// redirectGuard refuses redirects that would carry the Authorization header
// to another host (or port), or from https down to plain http — net/http
// itself forwards it to subdomains and across schemes. Allowed redirects go
// on to the caller's own policy (from WithHTTPClient), else to net/http's
// limit of 10.
func (c *Client) redirectGuard(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		from := via[0].URL
		to := req.URL
		downgrade := from.Scheme == "https" && to.Scheme != "https" && !(c.allowInsecureHTTP || isLoopback(to.Hostname()))
		if !strings.EqualFold(from.Host, to.Host) || downgrade {
			return &redirectError{from: from.Scheme + "://" + from.Host, to: to.Scheme + "://" + to.Host}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}
