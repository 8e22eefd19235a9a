package toloka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// Base URLs of Toloka's environments (toloka-api.md §1.1). Sandbox and
// production are separate accounts: a key from one does not work in the other.
const (
	ProductionURL = "https://toloka.dev/api/v1"
	SandboxURL    = "https://sandbox.toloka.dev/api/v1"
)

// Environment variables read by WithEnv.
const (
	EnvAPIKey      = "TOLOKA_API_KEY"
	EnvEnvironment = "TOLOKA_ENV"
	EnvURL         = "TOLOKA_URL"
)

// Client talks to the Toloka API. Create it with NewClient; it is safe for
// concurrent use by many goroutines, and holds no state a call can change.
type Client struct {
	baseURL    string // without a trailing slash
	credential credential
	httpClient *http.Client
	userAgent  string

	// The send path's settings (transport.go, retry.go, limiter.go,
	// hygiene.go). sleep, now and random are injected by tests.
	retryPolicy       RetryPolicy
	logger            *slog.Logger
	limiter           RateLimiter
	attemptTimeout    time.Duration
	allowInsecureHTTP bool
	maxBody           int64
	sleep             func(context.Context, time.Duration) error
	now               func() time.Time
	random            func() float64
	// lookups caches the pools and projects that validation reads; it is
	// shared by concurrent calls and guarded by its own lock.
	lookups *lookups
	// skipLookups is WithoutLookups: no call reads pools or projects.
	skipLookups bool
}

// Option configures a Client in NewClient. Options check their input and make
// NewClient fail on a bad value.
type Option func(*Client) error

// NewClient returns a client for the Toloka API. It needs a credential
// (WithAPIKey, WithOAuthToken or WithEnv) and talks to ProductionURL unless
// WithBaseURL or WithEnv says otherwise.
//
// The default HTTP client sets no overall timeout, which would cut long
// uploads and waits: bound each call with its ctx, and each attempt with
// WithRequestTimeout. Its transport gives up on a response whose headers take
// over two minutes. Requests are retried by DefaultRetryPolicy unless
// WithRetryPolicy says otherwise. A plain http:// base URL is refused unless
// its host is loopback or WithInsecureHTTP is given.
func NewClient(opts ...Option) (*Client, error) {
	c := &Client{
		baseURL:     ProductionURL,
		retryPolicy: DefaultRetryPolicy(),
		lookups:     newLookups(DefaultValidationCacheTTL, DefaultValidationCacheSize, time.Now),
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if c.credential.value == nil {
		return nil, errors.New("toloka: no credential: use WithAPIKey, WithOAuthToken or WithEnv")
	}
	if err := c.initTransport(); err != nil {
		return nil, err
	}
	c.userAgent = defaultUserAgent() + c.userAgent
	return c, nil
}

func defaultUserAgent() string {
	return fmt.Sprintf("toloka-go/%s (%s; %s/%s)", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// WithAPIKey authenticates with an API key, sent as "Authorization: ApiKey <key>"
// (toloka-api.md §1.2). Keys are made in the requester UI under Profile →
// Integrations.
func WithAPIKey(key string) Option {
	return func(c *Client) error {
		return c.setCredential("ApiKey", key, "API key")
	}
}

// WithOAuthToken authenticates with a legacy OAuth token, sent as
// "Authorization: OAuth <token>". Such tokens expire; prefer an API key.
func WithOAuthToken(token string) Option {
	return func(c *Client) error {
		return c.setCredential("OAuth", token, "OAuth token")
	}
}

func (c *Client) setCredential(scheme, value, what string) error {
	value = strings.TrimSpace(value)
	if value == "" {
		return fmt.Errorf("toloka: empty %s", what)
	}
	if strings.ContainsAny(value, " \t\r\n") {
		return fmt.Errorf("toloka: the %s contains white space; pass the bare %s without a scheme", what, what)
	}
	c.credential = credential{scheme: scheme, value: func() string { return value }}
	return nil
}

// WithBaseURL points the client at another API root, such as SandboxURL or a
// tolokatest server. A trailing slash is ignored. The URL must be absolute
// http or https with no query or fragment.
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		base, err := normalizeBaseURL(raw)
		if err != nil {
			return err
		}
		c.baseURL = base
		return nil
	}
}

func normalizeBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("toloka: base URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("toloka: base URL %q must start with https:// (or http://)", u.Redacted())
	}
	if u.Host == "" {
		return "", fmt.Errorf("toloka: base URL %q has no host", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("toloka: base URL %q must not carry a query, fragment or user info", u.Redacted())
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// WithEnv configures the client from the environment: the API key from
// TOLOKA_API_KEY (required), and the API root from TOLOKA_URL or, when that
// is unset, from TOLOKA_ENV ("production" or "sandbox"). With neither set,
// the base URL stays as the other options made it (ProductionURL by default).
func WithEnv() Option {
	return withEnvLookup(os.LookupEnv)
}

func withEnvLookup(lookup func(string) (string, bool)) Option {
	return func(c *Client) error {
		key, _ := lookup(EnvAPIKey)
		if strings.TrimSpace(key) == "" {
			return fmt.Errorf("toloka: %s is not set", EnvAPIKey)
		}
		if err := c.setCredential("ApiKey", key, EnvAPIKey); err != nil {
			return err
		}
		if raw, ok := lookup(EnvURL); ok && strings.TrimSpace(raw) != "" {
			return WithBaseURL(raw)(c)
		}
		env, _ := lookup(EnvEnvironment)
		switch strings.ToLower(strings.TrimSpace(env)) {
		case "":
			// Neither variable is set: keep the base URL the options chose
			// (ProductionURL unless WithBaseURL came first).
		case "production", "prod":
			c.baseURL = ProductionURL
		case "sandbox":
			c.baseURL = SandboxURL
		default:
			return fmt.Errorf("toloka: %s=%q: want \"production\" or \"sandbox\"", EnvEnvironment, env)
		}
		return nil
	}
}

// WithHTTPClient sends requests through a copy of hc, e.g. one whose
// transport is an httpmock.MockTransport. A Timeout set on hc applies to each
// attempt, including reads of large operation logs.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("toloka: nil *http.Client")
		}
		cp := *hc
		c.httpClient = &cp
		return nil
	}
}

// WithTransport sends requests through rt (with no client-wide timeout).
func WithTransport(rt http.RoundTripper) Option {
	return func(c *Client) error {
		if rt == nil {
			return errors.New("toloka: nil http.RoundTripper")
		}
		c.httpClient = &http.Client{Transport: rt}
		return nil
	}
}

// WithUserAgent appends an application token such as "labeler/1.2" to the
// User-Agent header, after "toloka-go/<version> (<go>; <os>/<arch>)".
func WithUserAgent(app string) Option {
	return func(c *Client) error {
		app = strings.TrimSpace(app)
		if app == "" || strings.ContainsAny(app, "\r\n") {
			return errors.New("toloka: user agent suffix must be a non-empty single line")
		}
		c.userAgent += " " + app
		return nil
	}
}

// BaseURL returns the API root the client talks to.
func (c *Client) BaseURL() string { return c.baseURL }

// String describes the client without its credential.
func (c *Client) String() string {
	return fmt.Sprintf("toloka.Client{baseURL: %q, credential: %s}", c.baseURL, c.credential)
}

// GoString is String: %#v must not print the credential either.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb, so no formatting of a Client can show
// the credential.
func (c *Client) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// credential is an Authorization header value that formats as redacted. The
// key sits behind a closure: fmt prints a func as an address, so even
// reflection-based formatting of a Client value ("%+v" of *c, a bad verb
// such as "%s", a struct holding one) cannot reach it.
type credential struct {
	scheme string
	value  func() string
}

func (cr credential) header() string { return cr.scheme + " " + cr.value() }

func (cr credential) String() string {
	if cr.value == nil {
		return "none"
	}
	return cr.scheme + " [REDACTED]"
}

func (cr credential) GoString() string           { return cr.String() }
func (cr credential) Format(f fmt.State, _ rune) { fmt.Fprint(f, cr.String()) }
