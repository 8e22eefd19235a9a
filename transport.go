package toloka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// retryClass says whether a request may be sent again after a failure whose
// outcome is unknown.
type retryClass int

const (
	// retrySafe: reads, and async creates that carry an operation_id, which
	// Toloka deduplicates.
	retrySafe retryClass = iota
	// retryUnsafe: sync creates, which have no idempotency key; a repeat of a
	// request the server applied would create the items twice.
	retryUnsafe
)

// apiRequest is one API call before it is sent.
type apiRequest struct {
	method string
	path   string // relative to the base URL, segments already escaped
	query  url.Values
	body   []byte // encoded JSON, or nil
	retry  retryClass
}

// maxSuccessBody bounds how much of a 2xx response is read into memory. A
// 5,000-item sync batch echoing 1 MiB of input stays far below it; operation
// logs are streamed and do not go through this bound.
const maxSuccessBody = 256 << 20

// resourcePath joins a collection and an id into a path, escaping the id so
// that "/" or ".." in it cannot change the route.
func resourcePath(collection, id string, rest ...string) (string, error) {
	if strings.TrimSpace(id) == "" {
		return "", fmt.Errorf("toloka: empty %s id", strings.TrimSuffix(collection, "s"))
	}
	if id == "." || id == ".." {
		return "", fmt.Errorf("toloka: %q is not a valid %s id", id, strings.TrimSuffix(collection, "s"))
	}
	parts := append([]string{collection, url.PathEscape(id)}, rest...)
	return strings.Join(parts, "/"), nil
}

// encodeJSON encodes v without HTML escaping, which would bloat URLs and
// markup in input_values for nothing.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("toloka: encoding request: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// send performs the request and returns a 2xx response whose body the caller
// must close. Any other status becomes an *APIError. When ctx is done, its
// error is what the caller sees.
func (c *Client) send(ctx context.Context, r *apiRequest, _ *callConfig) (*http.Response, error) {
	u := c.baseURL + "/" + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("toloka: building %s /%s: %w", r.method, r.path, err)
	}
	req.Header.Set("Authorization", c.credential.header())
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("toloka: %s /%s: %w", r.method, r.path, stripURLError(err))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return nil, newAPIError(r.method, "/"+r.path, resp.StatusCode, data)
}

// stripURLError drops the *url.Error wrapper, whose text repeats the full
// URL; the callers name the method and path themselves.
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// doJSON sends the request and decodes a 2xx body into out (when out is not nil).
func (c *Client) doJSON(ctx context.Context, r *apiRequest, out any, opts []CallOption) error {
	cfg := newCallConfig(opts)
	resp, err := c.send(ctx, r, cfg)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSuccessBody+1))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("toloka: %s /%s: reading response: %w", r.method, r.path, err)
	}
	if len(data) > maxSuccessBody {
		return fmt.Errorf("toloka: %s /%s: response larger than %d bytes", r.method, r.path, maxSuccessBody)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("toloka: %s /%s: decoding %d response: %w (body %q)", r.method, r.path, resp.StatusCode, err, excerpt(data))
	}
	return nil
}

// stream sends the request and hands the 2xx body to read unbuffered, for
// bodies too large to hold at once (operation logs, toloka-api.md §6.2). A
// failure while reading is not retried: read may already have acted on part
// of the body.
func (c *Client) stream(ctx context.Context, r *apiRequest, opts []CallOption, read func(io.Reader) error) error {
	resp, err := c.send(ctx, r, newCallConfig(opts))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := read(resp.Body); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return err
	}
	return nil
}
