package toloka

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testKey = "AQAAAAAA-secret-key-0123456789"

// newMockClient returns a client whose requests go to its own mock transport,
// so tests can run in parallel. Retries happen at once: tests never sleep.
// It validates without pool lookups, so tests of the wire format need no
// pool responders; validation tests build their own clients.
func newMockClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	base := []Option{WithAPIKey(testKey), WithTransport(mt), WithRetryPolicy(RetryPolicy{MaxRetries: 2}), WithoutLookups()}
	c, err := NewClient(append(base, opts...)...)
	require.NoError(t, err)
	return c, mt
}

func TestNewClientDefaults(t *testing.T) {
	t.Parallel()
	c, err := NewClient(WithAPIKey(testKey))
	require.NoError(t, err)
	assert.Equal(t, ProductionURL, c.BaseURL())
	assert.Equal(t, fmt.Sprintf("toloka-go/%s (%s; %s/%s)", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH), c.userAgent)
}

func TestNewClientNeedsCredential(t *testing.T) {
	t.Parallel()
	_, err := NewClient()
	require.ErrorContains(t, err, "no credential")
}

func TestOptionsRejectBadInput(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		opt  Option
		want string
	}{
		"empty key":          {WithAPIKey("  "), "empty API key"},
		"key with scheme":    {WithAPIKey("ApiKey abc"), "white space"},
		"empty oauth":        {WithOAuthToken(""), "empty OAuth token"},
		"relative base":      {WithBaseURL("toloka.dev/api/v1"), "must start with https://"},
		"ftp base":           {WithBaseURL("ftp://toloka.dev"), "must start with https://"},
		"no host":            {WithBaseURL("https:///api"), "no host"},
		"query in base":      {WithBaseURL("https://toloka.dev/api/v1?x=1"), "query"},
		"user info in base":  {WithBaseURL("https://u:p@toloka.dev/api/v1"), "user info"},
		"nil http client":    {WithHTTPClient(nil), "nil *http.Client"},
		"nil transport":      {WithTransport(nil), "nil http.RoundTripper"},
		"empty user agent":   {WithUserAgent(" "), "non-empty single line"},
		"multiline agent":    {WithUserAgent("a\r\nX-Evil: 1"), "non-empty single line"},
		"unparseable base":   {WithBaseURL("https://%zz"), "base URL"},
		"fragment in base":   {WithBaseURL("https://toloka.dev/api#x"), "fragment"},
		"oauth with newline": {WithOAuthToken("abc\ndef"), "white space"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := NewClient(WithAPIKey(testKey), tc.opt)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), testKey)
		})
	}
}

func TestBaseURLTrailingSlashNormalised(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{SandboxURL, SandboxURL + "/", SandboxURL + "//", " " + SandboxURL + "/ "} {
		c, err := NewClient(WithAPIKey(testKey), WithBaseURL(raw))
		require.NoError(t, err)
		assert.Equal(t, SandboxURL, c.BaseURL(), raw)
	}
}

func TestAuthorizationHeaders(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		opt  Option
		want string
	}{
		"api key": {WithAPIKey("key-1"), "ApiKey key-1"},
		"oauth":   {WithOAuthToken("tok-2"), "OAuth tok-2"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			var got http.Header
			mt.RegisterResponder(http.MethodGet, "https://sandbox.toloka.dev/api/v1/pools/7", func(r *http.Request) (*http.Response, error) {
				got = r.Header.Clone()
				return httpmock.NewStringResponse(200, `{"id":"7","project_id":"1"}`), nil
			})
			c, err := NewClient(tc.opt, WithBaseURL(SandboxURL), WithTransport(mt), WithUserAgent("labeler/1.2"))
			require.NoError(t, err)
			_, err = c.GetPool(context.Background(), "7")
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.Get("Authorization"))
			assert.True(t, strings.HasPrefix(got.Get("User-Agent"), "toloka-go/"+Version+" ("))
			assert.True(t, strings.HasSuffix(got.Get("User-Agent"), ") labeler/1.2"), got.Get("User-Agent"))
			assert.Equal(t, "application/json", got.Get("Accept"))
			assert.Empty(t, got.Get("Content-Type"), "a GET has no body")
		})
	}
}

func TestWithEnv(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		env     map[string]string
		wantURL string
		wantErr string
	}{
		"production by default": {env: map[string]string{EnvAPIKey: "k"}, wantURL: ProductionURL},
		"production named":      {env: map[string]string{EnvAPIKey: "k", EnvEnvironment: "production"}, wantURL: ProductionURL},
		"sandbox":               {env: map[string]string{EnvAPIKey: "k", EnvEnvironment: "SANDBOX"}, wantURL: SandboxURL},
		"url wins over env":     {env: map[string]string{EnvAPIKey: "k", EnvEnvironment: "sandbox", EnvURL: "http://127.0.0.1:8080/api/v1/"}, wantURL: "http://127.0.0.1:8080/api/v1"},
		"missing key":           {env: map[string]string{EnvEnvironment: "sandbox"}, wantErr: "TOLOKA_API_KEY is not set"},
		"unknown env":           {env: map[string]string{EnvAPIKey: "k", EnvEnvironment: "staging"}, wantErr: `TOLOKA_ENV="staging"`},
		"bad url":               {env: map[string]string{EnvAPIKey: "k", EnvURL: "toloka"}, wantErr: "must start with https://"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			c, err := NewClient(withEnvLookup(lookup))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantURL, c.BaseURL())
			assert.Equal(t, "ApiKey k", c.credential.header())
		})
	}
}

func TestWithEnvKeepsAnEarlierBaseURLWhenTheEnvironmentNamesNone(t *testing.T) {
	t.Parallel()
	lookup := func(k string) (string, bool) { return map[string]string{EnvAPIKey: "k"}[k], k == EnvAPIKey }
	c, err := NewClient(WithBaseURL(SandboxURL), withEnvLookup(lookup))
	require.NoError(t, err)
	assert.Equal(t, SandboxURL, c.BaseURL(), "an unset TOLOKA_ENV must not switch the client to production")

	_, err = NewClient(WithAPIKey(testKey), WithBaseURL("https://user:hunter2@toloka.dev/api/v1"))
	require.ErrorContains(t, err, "user info")
	assert.NotContains(t, err.Error(), "hunter2", "a password in a URL is redacted")
}

func TestWithEnvReadsProcessEnvironment(t *testing.T) {
	t.Setenv(EnvAPIKey, "from-env")
	t.Setenv(EnvEnvironment, "sandbox")
	t.Setenv(EnvURL, "")
	c, err := NewClient(WithEnv())
	require.NoError(t, err)
	assert.Equal(t, SandboxURL, c.BaseURL())
	assert.Equal(t, "ApiKey from-env", c.credential.header())
}

func TestWithHTTPClientCopiesTheClient(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodGet, "=~/pools/1$", httpmock.NewStringResponder(200, `{"id":"1"}`))
	hc := &http.Client{Transport: mt}
	c, err := NewClient(WithAPIKey(testKey), WithHTTPClient(hc))
	require.NoError(t, err)
	hc.Transport = nil // the caller changing its client afterwards must not affect ours
	_, err = c.GetPool(context.Background(), "1")
	require.NoError(t, err)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestClientFormattingHidesCredential(t *testing.T) {
	t.Parallel()
	for _, opt := range []Option{WithAPIKey(testKey), WithOAuthToken(testKey)} {
		c, err := NewClient(opt)
		require.NoError(t, err)
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out := fmt.Sprintf(verb, c)
			assert.NotContains(t, out, testKey, verb)
			assert.Contains(t, out, "REDACTED", verb)
		}
		out := fmt.Sprintf("%+v %#v", *c, c.credential)
		assert.NotContains(t, out, testKey)
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	var gotPath string
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		gotPath = r.URL.EscapedPath()
		return httpmock.NewStringResponse(404, `{"code":"DOES_NOT_EXIST","message":"no"}`), nil
	})
	_, err := c.GetPool(context.Background(), "../projects/1")
	require.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, "/api/v1/pools/..%2Fprojects%2F1", gotPath)

	for _, bad := range []string{"", " ", ".", ".."} {
		_, err := c.GetPool(context.Background(), bad)
		require.Error(t, err, "%q", bad)
		assert.Contains(t, err.Error(), "pool id")
	}
	assert.Equal(t, 1, mt.GetTotalCallCount(), "invalid ids are refused before sending")
}

func TestWithoutLookupsSkipsPoolReadsButHonoursGivenPools(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t) // WithoutLookups
	mt.RegisterResponder(http.MethodPost, ProductionURL+"/task-suites", httpmock.NewStringResponder(201, `{"id":"s"}`))
	suite := TaskSuite{PoolID: "5", Tasks: []SuiteTask{{InputValues: Values{"a": "b"}}}, Overlap: FiniteOverlap(1)}
	_, err := c.CreateTaskSuite(context.Background(), suite)
	require.NoError(t, err)
	assert.Equal(t, 1, mt.GetTotalCallCount(), "only the create was sent")

	mixer := &Pool{ID: "5", MixerConfig: &MixerConfig{RealTasksCount: 1}}
	_, err = c.CreateTaskSuite(context.Background(), suite, WithPool(mixer))
	require.ErrorIs(t, err, ErrValidation)
	assert.Contains(t, err.Error(), "task_suites[0].pool_id: POOL_TASK_TYPE_CONFLICT: pool 5 uses smart mixing")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}
