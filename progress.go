package toloka

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// UploadProgress is a snapshot of an upload, passed to the OnProgress
// callback after every batch and once more at the end (Done).
type UploadProgress struct {
	// UploadID is the upload's id, the one to rerun with after a crash:
	// save it from the first call if the upload did not get WithUploadID.
	UploadID string
	// Total is the number of items in the source when known in advance (a
	// slice), else -1.
	Total int64
	// Read counts items taken from the source so far.
	Read int64
	// Sent counts items handed to Toloka in a batch request.
	Sent int64
	// Created, Rejected and Failed count items by outcome so far (see
	// ItemStatus).
	Created, Rejected, Failed int64
	// Batches counts finished batches; FailedBatches those among them that failed.
	Batches, FailedBatches int
	// Elapsed is the time since the upload started.
	Elapsed time.Duration
	// ItemsPerSecond is the rate at which items got a final outcome
	// (created, rejected or failed) since the start.
	ItemsPerSecond float64
	// Done is set on the last call, after every batch has finished.
	Done bool
}

// Finished returns the number of items with a final outcome.
func (p UploadProgress) Finished() int64 { return p.Created + p.Rejected + p.Failed }

// NewProgressBar returns an OnProgress callback that draws a one-line
// progress bar on w, such as a terminal's standard error, redrawing it in
// place with a carriage return and ending it with a newline when the upload
// is done. With a source of unknown length it shows counts and the rate
// without a bar. Write errors are ignored: progress must not fail an upload.
func NewProgressBar(w io.Writer) func(UploadProgress) {
	const width = 30
	var last int
	return func(p UploadProgress) {
		var b strings.Builder
		b.WriteByte('\r')
		if p.Total > 0 {
			frac := float64(p.Finished()) / float64(p.Total)
			frac = min(max(frac, 0), 1)
			filled := int(frac * width)
			fmt.Fprintf(&b, "%3.0f%% [%s%s] %s/%s", frac*100, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), groupDigits(p.Finished()), groupDigits(p.Total))
		} else {
			fmt.Fprintf(&b, "%s done", groupDigits(p.Finished()))
		}
		fmt.Fprintf(&b, " | sent %s, created %s, rejected %s", groupDigits(p.Sent), groupDigits(p.Created), groupDigits(p.Rejected))
		if p.Failed > 0 {
			fmt.Fprintf(&b, ", failed %s", groupDigits(p.Failed))
		}
		fmt.Fprintf(&b, " | %s items/s", groupDigits(int64(p.ItemsPerSecond+0.5)))
		// Pad over the rest of a longer previous line.
		n := b.Len()
		if n < last {
			b.WriteString(strings.Repeat(" ", last-n))
		}
		last = n
		if p.Done {
			b.WriteByte('\n')
		}
		_, _ = io.WriteString(w, b.String())
	}
}

// groupDigits writes n with thousands separators: 1234567 → "1,234,567".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
