package toloka

import (
	"bytes"
	"context"
	"slices"
	"strconv"
)

// itemMarker is the key the uploader adds to every item it sends, holding the
// item's index in the upload's input as a decimal string. Toloka echoes it in
// the operation log's "input" (toloka-api.md §1.3, §6.2: SDK evidence, as
// toloka-kit does), which is how a log entry is matched to its item. The
// global index, unlike a position in the request, stays the same when a
// rerun's validation drops different items from the batch.
const itemMarker = ItemIndexKey

// batchRunner uploads one batch as one async create request whose
// operation_id is b.OperationID, waits for the operation and returns the
// outcome of each item by its position in the batch. An error means the fate
// of the whole batch is unknown or failed; the uploader then reports all its
// items as failed.
//
// The runner must not keep b, or b.Body, after it returns: the uploader
// reuses their memory for a later batch.
//
// It must be idempotent on b.OperationID: when Toloka answers 409
// OPERATION_ALREADY_EXISTS (a retry, or the rerun of an upload), it waits for
// the existing operation and reads its log instead of creating the items
// again (toloka-api.md §2.4).
type batchRunner func(ctx context.Context, b *uploadBatch) (batchOutcome, error)

// batchOutcome is what Toloka did with each item of a batch.
type batchOutcome struct {
	// IDs holds the id of the created task or suite by position in the
	// batch, "" where nothing was created. Its length is b.Len().
	IDs []string
	// Errors are the field errors of the items Toloka rejected; Index is the
	// position in the batch.
	Errors []FieldError
	// Other are the first log entries about no single item of the batch:
	// steps such as POOL_OPEN, and entries whose __item_idx names no item of
	// it; OtherCount counts them all.
	Other      []OperationLogEntry
	OtherCount int
}

// uploadBatch is one request of an upload, encoded and ready to send.
type uploadBatch struct {
	// Ordinal is the batch's position in the upload, from 0.
	Ordinal int
	// OperationID is the batch's deterministic idempotency key.
	OperationID string
	// Body is the request body: a JSON array of the items, each with
	// itemMarker set to its global index.
	Body []byte
	// Indexes are the items' indexes in the input, ascending, by position.
	Indexes []int64

	ends        []int // end offset in Body of each item's object
	inputBytes  int
	outputBytes int
}

// Len returns the number of items in the batch.
func (b *uploadBatch) Len() int { return len(b.Indexes) }

// Position maps the itemMarker value of an operation log entry, parsed as an
// integer (OperationLogEntry.ItemIndex does that), back to the item's
// position in the batch; ok is false for an index not in the batch.
func (b *uploadBatch) Position(index int) (pos int, ok bool) {
	pos, ok = slices.BinarySearch(b.Indexes, int64(index))
	return pos, ok
}

// item returns the encoded object at pos, marker included.
func (b *uploadBatch) item(pos int) []byte {
	start := 1 // after "["
	if pos > 0 {
		start = b.ends[pos-1] + 1 // after ","
	}
	return b.Body[start:b.ends[pos]]
}

// add appends an encoded item (an object from the models' MarshalJSON) with
// its global index and value sizes.
func (b *uploadBatch) add(index int64, encoded []byte, in, out int) {
	if len(b.Body) == 0 {
		b.Body = append(b.Body, '[')
	} else {
		b.Body = append(b.Body, ',')
	}
	b.Body = append(b.Body, `{"`+itemMarker+`":"`...)
	b.Body = strconv.AppendInt(b.Body, index, 10)
	b.Body = append(b.Body, '"')
	if rest := encoded[1:]; len(rest) > 0 && rest[0] != '}' {
		b.Body = append(b.Body, ',')
	}
	b.Body = append(b.Body, encoded[1:]...)
	b.ends = append(b.ends, len(b.Body))
	b.Indexes = append(b.Indexes, index)
	b.inputBytes += in
	b.outputBytes += out
}

// finish closes the JSON array.
func (b *uploadBatch) finish() { b.Body = append(b.Body, ']') }

// keep drops the items at positions for which keep returns false and
// rebuilds the body; only validation rejections make it copy.
func (b *uploadBatch) keep(keep func(pos int) bool) {
	out := &uploadBatch{Ordinal: b.Ordinal, OperationID: b.OperationID}
	out.Body = make([]byte, 0, len(b.Body))
	for pos := range b.Indexes {
		if !keep(pos) {
			continue
		}
		if len(out.Body) == 0 {
			out.Body = append(out.Body, '[')
		} else {
			out.Body = append(out.Body, ',')
		}
		out.Body = append(out.Body, b.item(pos)...)
		out.ends = append(out.ends, len(out.Body))
		out.Indexes = append(out.Indexes, b.Indexes[pos])
	}
	if len(out.Indexes) > 0 {
		out.finish()
	}
	out.inputBytes, out.outputBytes = b.inputBytes, b.outputBytes // an upper bound still
	*b = *out
}

// fits reports whether an item with these value sizes can join the batch
// without breaking the per-request budgets of toloka-api.md §2.5.
func (b *uploadBatch) fits(maxItems, in, out int) bool {
	return len(b.Indexes) < maxItems &&
		b.inputBytes+in <= MaxInputValuesBytes &&
		b.outputBytes+out <= MaxOutputValuesBytes
}

// errNotJSONObject means an encoder produced something the size scan cannot
// read; the models' MarshalJSON never does.
const errNotJSONObject Error = "toloka: encoded item is not a JSON object"

// valueSizes measures, in one pass over an encoded task or suite, the bytes
// its input_values and output_values take: every value under those keys, at
// any depth (a task's input_values, known_solutions.N.output_values,
// baseline_solutions.N.output_values; a suite's tasks.N.input_values and
// tasks.N.known_solutions.N.output_values). Values are counted as the
// request carries them (the SDK does not escape HTML), which is exactly
// validate.go's per-request measure, so a batch that fits here passes
// validation's budget check and an item is never refused for bytes it does
// not send. Empty and null values count 0, as in validation, which rejects
// them instead.
func valueSizes(encoded []byte) (in, out int, err error) {
	s := sizeScanner{data: encoded}
	if len(encoded) == 0 || encoded[0] != '{' || !s.value(false) || s.pos != len(encoded) {
		return 0, 0, errNotJSONObject
	}
	return s.in, s.out, nil
}

// sizeScanner walks JSON that an encoder wrote (valid and compact).
type sizeScanner struct {
	data    []byte
	pos     int
	in, out int
}

func (s *sizeScanner) value(quiet bool) bool {
	if s.pos >= len(s.data) {
		return false
	}
	switch s.data[s.pos] {
	case '{':
		return s.object(quiet)
	case '[':
		return s.array(quiet)
	case '"':
		return s.str()
	default:
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case ',', '}', ']':
				return true
			}
			s.pos++
		}
		return true
	}
}

// object scans an object; inside a measured value (quiet) keys that look
// like ours are user data and are not counted again.
func (s *sizeScanner) object(quiet bool) bool {
	s.pos++ // '{'
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return true
	}
	for s.pos < len(s.data) {
		keyStart := s.pos
		if !s.str() || s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return false
		}
		key := s.data[keyStart+1 : s.pos-1]
		s.pos++ // ':'
		start := s.pos
		measured := !quiet && (string(key) == "input_values" || string(key) == "output_values")
		if !s.value(quiet || measured) {
			return false
		}
		if measured {
			n := encodedSize(s.data[start:s.pos])
			if key[0] == 'i' {
				s.in += n
			} else {
				s.out += n
			}
		}
		if s.pos >= len(s.data) {
			return false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return true
		default:
			return false
		}
	}
	return false
}

func (s *sizeScanner) array(quiet bool) bool {
	s.pos++ // '['
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return true
	}
	for s.pos < len(s.data) {
		if !s.value(quiet) || s.pos >= len(s.data) {
			return false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return true
		default:
			return false
		}
	}
	return false
}

// str scans a string literal, leaving pos after its closing quote. It jumps
// from quote to quote; a quote preceded by an odd run of backslashes is
// escaped and does not end the string.
func (s *sizeScanner) str() bool {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return false
	}
	i := s.pos + 1
	for {
		j := bytes.IndexByte(s.data[i:], '"')
		if j < 0 {
			return false
		}
		i += j
		slashes := 0
		for k := i - 1; k > s.pos && s.data[k] == '\\'; k-- {
			slashes++
		}
		i++
		if slashes%2 == 0 {
			s.pos = i
			return true
		}
	}
}

// encodedSize is the size of an encoded value as the request carries it.
func encodedSize(v []byte) int {
	if string(v) == "null" || string(v) == "{}" {
		return 0
	}
	return len(v)
}
