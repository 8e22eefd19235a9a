package tolokatest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gotoloka/toloka"
)

// apiError is an error answer in Toloka's envelope (toloka-api.md §8.1).
type apiError struct {
	status     int
	code       string
	message    string
	payload    any
	retryAfter time.Duration
}

// wireFieldError is one field error on the wire (toloka-api.md §8.3).
type wireFieldError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Params  []any  `json:"params,omitempty"`
}

// fieldMap is one item's errors keyed by field path.
type fieldMap map[string]wireFieldError

func (s *Server) errorResponse(reqSeq uint64, e apiError) response {
	body := map[string]any{
		"request_id": requestID(s.cfg.seed, reqSeq),
		"code":       e.code,
		"message":    e.message,
	}
	if e.payload != nil {
		body["payload"] = e.payload
	}
	data, err := json.Marshal(body)
	if err != nil {
		data = []byte(`{"code":"INTERNAL_ERROR","message":"Internal Error"}`)
	}
	return response{status: e.status, body: data, retryAfter: e.retryAfter}
}

// requestID derives a UUID-shaped id from the seed and the request's number.
func requestID(seed, seq uint64) string {
	return uuidFromBits(splitmix(seed^0x9e3779b97f4a7c15+seq), splitmix(seed+seq*31+7))
}

func uuidFromBits(hi, lo uint64) string {
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // RFC 4122 variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

// splitmix is SplitMix64's mixing step: cheap, stateless and well spread.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// validationFailed is the 400 of a request whose payload maps fields (or item
// indexes) to field errors (toloka-api.md §8.1, §10.9).
func validationFailed(payload any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: toloka.CodeValidationError, message: "Validation failed", payload: payload}
}

// badParam is a 400 about one query parameter.
func badParam(name, code, message string) *apiError {
	return validationFailed(fieldMap{name: {Code: code, Message: message}})
}

func notFound(what, id string) *apiError {
	return &apiError{status: http.StatusNotFound, code: toloka.CodeDoesNotExist, message: fmt.Sprintf("There are no results for such parameters: %s %s", what, strconv.Quote(id))}
}

func jsonResponse(status int, v any) (response, *apiError) {
	data, err := json.Marshal(v)
	if err != nil {
		return response{}, &apiError{status: http.StatusInternalServerError, code: toloka.CodeInternalError, message: "Internal Error: " + err.Error()}
	}
	return response{status: status, body: data}, nil
}
