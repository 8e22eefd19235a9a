package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// The minimal baseline client of issue 7: what someone writes by hand with
// the standard library alone. It encodes 5,000-task batches with
// encoding/json, POSTs each synchronously (async_mode=false) with net/http,
// one at a time, and decodes the answer — the created tasks by index, and the
// validation errors — with encoding/json. No validation, no retries, no
// pacing, no results by item beyond what the answer says.

// baselineBatch is the item cap of a synchronous create (toloka-api.md §2.5).
const baselineBatch = 5000

// baselineTask is the task as the minimal client sends and reads it.
type baselineTask struct {
	ID              string         `json:"id,omitempty"`
	PoolID          string         `json:"pool_id"`
	InputValues     map[string]any `json:"input_values"`
	Overlap         int            `json:"overlap,omitempty"`
	InfiniteOverlap bool           `json:"infinite_overlap,omitempty"`
	Created         string         `json:"created,omitempty"`
}

// baselineAnswer is a sync batch create's 201 body (toloka-api.md §2.3).
type baselineAnswer struct {
	Items            map[string]baselineTask `json:"items"`
	ValidationErrors map[string]map[string]struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"validation_errors"`
}

func runBaseline(ctx context.Context, w *workload) (childResult, error) {
	tasks := make([]baselineTask, w.tasks)
	for i := range tasks {
		tasks[i] = baselineTask{PoolID: "1", InputValues: map[string]any{"image": imageURL(i)}}
	}
	hc := &http.Client{}
	url := w.url + "/tasks?async_mode=false&allow_defaults=true&skip_invalid_items=true"
	var res childResult
	if err := w.begin(); err != nil {
		return res, err
	}
	for start := 0; start < len(tasks); start += baselineBatch {
		batch := tasks[start:min(start+baselineBatch, len(tasks))]
		ans, err := baselinePost(ctx, hc, url, batch)
		if err != nil {
			return res, fmt.Errorf("batch at %d: %w", start, err)
		}
		res.Created += int64(len(ans.Items))
		res.Rejected += int64(len(ans.ValidationErrors))
	}
	w.end(&res)
	res.Tasks = int64(len(tasks))
	return res, nil
}

func baselinePost(ctx context.Context, hc *http.Client, url string, batch []baselineTask) (*baselineAnswer, error) {
	body, err := json.Marshal(batch)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "ApiKey "+credential)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, msg)
	}
	var ans baselineAnswer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return nil, err
	}
	return &ans, nil
}
