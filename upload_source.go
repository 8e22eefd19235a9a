package toloka

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
)

// Client-side codes of items an upload rejects before any request: they are
// not Toloka's codes (toloka-api.md §8.3 has no code for unreadable input).
const (
	// CodeInvalidJSONLine marks a JSON Lines line that is not one JSON object
	// of the uploaded kind.
	CodeInvalidJSONLine = "INVALID_JSON_LINE"
	// CodeNotEncodable marks an item whose values encoding/json cannot encode
	// (a channel, a function, NaN, ...).
	CodeNotEncodable = "NOT_ENCODABLE"
)

// maxJSONLineBytes bounds one line of a JSON Lines source. No item can be
// larger than its input and output budgets (5 MiB) plus its other fields, so a
// longer line is rejected as an item and skipped instead of being buffered.
const maxJSONLineBytes = 16 << 20

// Source is the input of an upload: tasks or task suites handed over one at a
// time, so an upload of any size holds only the batches in flight. Build one
// with TasksFromSlice, TasksFromSeq, TasksFromSeq2, TasksFromJSONL or their
// TaskSuites counterparts; the zero Source is not usable.
//
// The position of an item in its source is its index in every result. A
// Source from a slice or a sequence can be uploaded again (to resume); one
// from a reader is consumed by the upload that reads it, so resume by opening
// the file again.
type Source[T Task | TaskSuite] struct {
	open  func() puller[T]
	total int64 // -1 when unknown
}

// TaskSource is the input of Client.UploadTasks.
type TaskSource = Source[Task]

// TaskSuiteSource is the input of Client.UploadTaskSuites.
type TaskSuiteSource = Source[TaskSuite]

// puller reads a source one item at a time; the uploader calls next only when
// it has room for the item, which is the backpressure on the input.
type puller[T any] interface {
	// next returns the next item, or a problem with it (bad, whose Index the
	// uploader fills) that rejects that item alone. ok is false at the end of
	// the input or after a read error, which err then returns.
	next() (item T, bad *FieldError, ok bool)
	err() error
	stop()
}

// TasksFromSlice uploads the tasks of a slice; index i is tasks[i]. The
// uploader reads the slice without changing it.
func TasksFromSlice(tasks []Task) TaskSource { return sliceSource(tasks) }

// TaskSuitesFromSlice uploads the task suites of a slice; index i is suites[i].
func TaskSuitesFromSlice(suites []TaskSuite) TaskSuiteSource { return sliceSource(suites) }

// TasksFromSeq uploads the tasks a sequence yields, pulling each only when
// a batch has room for it, so a generator never runs far ahead of the
// upload. Index i is the i-th task yielded.
func TasksFromSeq(seq iter.Seq[Task]) TaskSource { return seqSource(seq) }

// TaskSuitesFromSeq uploads the task suites a sequence yields; see TasksFromSeq.
func TaskSuitesFromSeq(seq iter.Seq[TaskSuite]) TaskSuiteSource { return seqSource(seq) }

// TasksFromSeq2 uploads the tasks a fallible generator yields, such as rows
// read from a database. A non-nil error stops the upload as a read error of
// the source does: the items read before it are uploaded and reported, and
// the upload's error wraps it, so a source that fails part-way is never
// mistaken for a complete one.
func TasksFromSeq2(seq iter.Seq2[Task, error]) TaskSource { return seq2Source(seq) }

// TaskSuitesFromSeq2 is TasksFromSeq2 for task suites.
func TaskSuitesFromSeq2(seq iter.Seq2[TaskSuite, error]) TaskSuiteSource { return seq2Source(seq) }

// TasksFromJSONL uploads tasks read from r as JSON Lines: one task object per
// line, in the form Toloka uses (the form Task marshals to and unmarshals
// from). Blank lines are skipped and take no index, so in a file without
// blank lines index i is line i+1. A line that is not a valid task is an
// item rejected with CodeInvalidJSONLine, naming its line; the upload goes
// on. A read error from r stops the upload. Lines may be long (up to 16 MiB).
func TasksFromJSONL(r io.Reader) TaskSource { return jsonlSource[Task](r, "task") }

// TaskSuitesFromJSONL uploads task suites read from r as JSON Lines, one
// suite object per line; see TasksFromJSONL.
func TaskSuitesFromJSONL(r io.Reader) TaskSuiteSource {
	return jsonlSource[TaskSuite](r, "task suite")
}

func sliceSource[T Task | TaskSuite](items []T) Source[T] {
	return Source[T]{
		total: int64(len(items)),
		open:  func() puller[T] { return &slicePuller[T]{items: items} },
	}
}

type slicePuller[T any] struct {
	items []T
	i     int
}

func (p *slicePuller[T]) next() (T, *FieldError, bool) {
	var zero T
	if p.i >= len(p.items) {
		return zero, nil, false
	}
	p.i++
	return p.items[p.i-1], nil, true
}

func (p *slicePuller[T]) err() error { return nil }
func (p *slicePuller[T]) stop()      {}

func seqSource[T Task | TaskSuite](seq iter.Seq[T]) Source[T] {
	return Source[T]{
		total: -1,
		open: func() puller[T] {
			if seq == nil {
				return &slicePuller[T]{}
			}
			next, stop := iter.Pull(seq)
			return &seqPuller[T]{pull: next, halt: stop}
		},
	}
}

type seqPuller[T any] struct {
	pull func() (T, bool)
	halt func()
}

func (p *seqPuller[T]) next() (T, *FieldError, bool) {
	item, ok := p.pull()
	return item, nil, ok
}

func (p *seqPuller[T]) err() error { return nil }
func (p *seqPuller[T]) stop()      { p.halt() }

func seq2Source[T Task | TaskSuite](seq iter.Seq2[T, error]) Source[T] {
	return Source[T]{
		total: -1,
		open: func() puller[T] {
			if seq == nil {
				return &slicePuller[T]{}
			}
			next, stop := iter.Pull2(seq)
			return &seq2Puller[T]{pull: next, halt: stop}
		},
	}
}

type seq2Puller[T any] struct {
	pull    func() (T, error, bool)
	halt    func()
	readErr error
}

func (p *seq2Puller[T]) next() (T, *FieldError, bool) {
	item, err, ok := p.pull()
	if ok && err != nil {
		p.readErr = err
		var zero T
		return zero, nil, false
	}
	return item, nil, ok
}

func (p *seq2Puller[T]) err() error { return p.readErr }
func (p *seq2Puller[T]) stop()      { p.halt() }

func jsonlSource[T Task | TaskSuite](r io.Reader, what string) Source[T] {
	return Source[T]{
		total: -1,
		open: func() puller[T] {
			return &jsonlPuller[T]{r: bufio.NewReaderSize(r, 64<<10), what: what}
		},
	}
}

// jsonlPuller decodes one line at a time into a reused line buffer, so memory
// does not grow with the file, only with its longest line.
type jsonlPuller[T any] struct {
	r       *bufio.Reader
	what    string
	line    []byte
	lineNo  int
	readErr error
	done    bool
}

func (p *jsonlPuller[T]) next() (T, *FieldError, bool) {
	var zero T
	for !p.done {
		line, tooLong := p.readLine()
		if p.readErr != nil {
			return zero, nil, false
		}
		if tooLong {
			return zero, lineError(CodeObjectSizeTooLarge, "line %d is longer than %d bytes; no %s can be that large: split its data or put it behind a URL", p.lineNo, maxJSONLineBytes, p.what), true
		}
		line = bytes.TrimSpace(line)
		if p.lineNo == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
		}
		if len(line) == 0 {
			continue
		}
		if line[0] != '{' {
			return zero, lineError(CodeInvalidJSONLine, "line %d is not a JSON object: write one %s object per line", p.lineNo, p.what), true
		}
		var item T
		if err := json.Unmarshal(line, &item); err != nil {
			return zero, lineError(CodeInvalidJSONLine, "line %d is not a valid %s: %v", p.lineNo, p.what, err), true
		}
		return item, nil, true
	}
	return zero, nil, false
}

func lineError(code, format string, args ...any) *FieldError {
	return &FieldError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// readLine returns the next line without its newline, reusing p.line. A line
// longer than maxJSONLineBytes is skipped up to its newline and reported as
// tooLong. At the end of the input it sets p.done; a read error also sets
// p.readErr.
func (p *jsonlPuller[T]) readLine() (line []byte, tooLong bool) {
	p.line = p.line[:0]
	p.lineNo++
	for {
		chunk, err := p.r.ReadSlice('\n')
		if !tooLong {
			if len(p.line)+len(chunk) > maxJSONLineBytes+2 { // +2: "\r\n"
				tooLong, p.line = true, p.line[:0]
			} else {
				p.line = append(p.line, chunk...)
			}
		}
		switch {
		case err == nil:
			return p.line, tooLong
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			p.done = true
			return p.line, tooLong
		default:
			p.done = true
			p.readErr = fmt.Errorf("toloka: reading JSON Lines after line %d: %w", p.lineNo-1, err)
			return nil, false
		}
	}
}

func (p *jsonlPuller[T]) err() error { return p.readErr }
func (p *jsonlPuller[T]) stop()      {}
