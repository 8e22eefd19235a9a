package toloka

import (
	"net/url"

	"github.com/google/go-querystring/query"
)

// CallOption adjusts one call. CreateOptions is one; the With* and Skip*
// functions of this package return others. Later options win.
type CallOption interface {
	applyCall(*callConfig)
}

// callOptionFunc adapts a function to CallOption.
type callOptionFunc func(*callConfig)

func (f callOptionFunc) applyCall(c *callConfig) { f(c) }

// callConfig is the resolved set of per-call options.
type callConfig struct {
	create         CreateOptions
	skipValidation bool
	retry          *RetryPolicy // a RetryPolicy passed to the call; nil uses the client's
	async          asyncConfig  // operation id, polling, read-back (async.go, wait.go)
	// Validation inputs (validate.go): pools and projects supplied by the
	// caller, and which lookups to skip.
	pools          map[string]*Pool
	projects       map[string]*Project
	skipLookups    bool
	skipSpecChecks bool
}

func newCallConfig(opts []CallOption) *callConfig {
	cfg := &callConfig{}
	for _, o := range opts {
		if o != nil {
			o.applyCall(cfg)
		}
	}
	return cfg
}

// CreateOptions are the query parameters of POST /tasks and POST /task-suites
// (toloka-api.md §2.1, §3.1). Pass it as a CallOption to any create call. A
// false field is left out of the query, which Toloka reads as false.
type CreateOptions struct {
	// AllowDefaults applies the pool's default overlap to items that give none;
	// without it every item needs an Overlap.
	AllowDefaults bool `url:"allow_defaults,omitempty"`
	// SkipInvalidItems creates the valid items and reports the others item by
	// item; without it one invalid item fails the whole request.
	SkipInvalidItems bool `url:"skip_invalid_items,omitempty"`
	// OpenPool opens the pool once the upload finishes, if it is closed.
	OpenPool bool `url:"open_pool,omitempty"`
}

func (o CreateOptions) applyCall(c *callConfig) { c.create = o }

// createQuery is the full query of a create call.
type createQuery struct {
	AsyncMode bool `url:"async_mode"`
	CreateOptions
	OperationID string `url:"operation_id,omitempty"`
}

func (q createQuery) values() (url.Values, error) {
	return query.Values(q)
}
