package tolokatest

import (
	"bytes"
	"encoding/json"
	"sort"
	"time"

	"github.com/gotoloka/toloka"
)

// taskView is a task as Toloka returns it (toloka-api.md §4.1, §10.1): the
// request's fields plus id, created, the effective overlap and
// remaining_overlap. Unknown keys of the request are not kept.
type taskView struct {
	ID                       string                         `json:"id"`
	PoolID                   string                         `json:"pool_id"`
	InputValues              toloka.Values                  `json:"input_values"`
	KnownSolutions           []toloka.KnownSolution         `json:"known_solutions,omitempty"`
	MessageOnUnknownSolution string                         `json:"message_on_unknown_solution,omitempty"`
	BaselineSolutions        []toloka.BaselineSolution      `json:"baseline_solutions,omitempty"`
	Overlap                  *int64                         `json:"overlap"`
	InfiniteOverlap          bool                           `json:"infinite_overlap"`
	RemainingOverlap         *int64                         `json:"remaining_overlap,omitempty"`
	ReservedFor              []string                       `json:"reserved_for,omitempty"`
	UnavailableFor           []string                       `json:"unavailable_for,omitempty"`
	TraitsAllOf              []string                       `json:"traits_all_of,omitempty"`
	TraitsAnyOf              []string                       `json:"traits_any_of,omitempty"`
	TraitsNoneOfAny          []string                       `json:"traits_none_of_any,omitempty"`
	LocalizationConfig       *toloka.TaskLocalizationConfig `json:"localization_config,omitempty"`
	Created                  toloka.Timestamp               `json:"created"`
}

// suiteView is a task suite as Toloka returns it (toloka-api.md §5, §10.6).
type suiteView struct {
	ID                   string           `json:"id"`
	PoolID               string           `json:"pool_id"`
	Tasks                []suiteTaskView  `json:"tasks"`
	Overlap              *int64           `json:"overlap"`
	InfiniteOverlap      bool             `json:"infinite_overlap"`
	RemainingOverlap     *int64           `json:"remaining_overlap,omitempty"`
	ReservedFor          []string         `json:"reserved_for,omitempty"`
	UnavailableFor       []string         `json:"unavailable_for,omitempty"`
	IssuingOrderOverride float64          `json:"issuing_order_override"`
	Mixed                bool             `json:"mixed"`
	Automerged           bool             `json:"automerged"`
	Latitude             *float64         `json:"latitude,omitempty"`
	Longitude            *float64         `json:"longitude,omitempty"`
	TraitsAllOf          []string         `json:"traits_all_of,omitempty"`
	TraitsAnyOf          []string         `json:"traits_any_of,omitempty"`
	TraitsNoneOfAny      []string         `json:"traits_none_of_any,omitempty"`
	Created              toloka.Timestamp `json:"created"`
}

type suiteTaskView struct {
	ID                       string                         `json:"id"`
	InputValues              toloka.Values                  `json:"input_values"`
	KnownSolutions           []toloka.KnownSolution         `json:"known_solutions,omitempty"`
	MessageOnUnknownSolution string                         `json:"message_on_unknown_solution,omitempty"`
	LocalizationConfig       *toloka.TaskLocalizationConfig `json:"localization_config,omitempty"`
}

// applied is what apply created: per request index the rendered JSON (nil
// when not created) and the sequence number.
type applied struct {
	rendered [][]byte
	seqs     []uint64
}

// id returns the id of created item i, or "".
func (a applied) id(b *batch, prefix string, i int) string {
	if a.rendered[i] == nil {
		return ""
	}
	nib := byte(nibbleTask)
	if b.kind == kindSuite {
		nib = nibbleSuite
	}
	return makeID(prefix, nib, a.seqs[i])
}

// apply stores the items at the given indexes. It reserves sequence numbers
// under the lock, renders without it (on every CPU for large batches), and
// stores under the lock again, so large batches do not stall other requests.
func (s *Server) apply(b *batch, which []int) applied {
	out := applied{rendered: make([][]byte, b.n), seqs: make([]uint64, b.n)}
	if len(which) == 0 {
		return out
	}
	now := s.now()
	pools := make([]*poolState, len(which))
	s.mu.Lock()
	first := s.st.items[b.kind].reserve(len(which))
	for k, i := range which {
		pools[k] = s.st.pools[b.poolID(i)]
	}
	s.mu.Unlock()

	createdJSON, _ := now.MarshalJSON()
	overlaps := make([]int32, len(which))
	parallel(len(which), func(lo, hi int) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		ends := make([]int, hi-lo)
		for k := lo; k < hi; k++ {
			i := which[k]
			seq := first + uint64(k)
			out.seqs[i] = seq
			count, infinite := overlapPtr(b.overlaps[i])
			overlaps[k] = -1
			if !infinite {
				overlaps[k] = int32(*count)
			}
			var v any
			switch {
			case b.kind == kindSuite:
				id := makeID(pools[k].prefix, nibbleSuite, seq)
				v = suiteViewOf(&b.suites[i], id, pools[k].prefix, seq, count, infinite, now)
			case b.fast != nil && b.fast[i]:
				buf.Write(appendTaskFast(buf.AvailableBuffer(), b.raws[i], &b.spans[i], pools[k].prefix, seq, count, infinite, string(createdJSON)))
				ends[k-lo] = buf.Len()
				continue
			default:
				v = taskViewOf(&b.tasks[i], makeID(pools[k].prefix, nibbleTask, seq), count, infinite, now)
			}
			if err := enc.Encode(v); err != nil {
				// The item was decoded from JSON, so it encodes; a failure
				// here is a bug in the fake.
				panic("tolokatest: rendering an item: " + err.Error())
			}
			buf.Truncate(buf.Len() - 1) // the encoder's newline
			ends[k-lo] = buf.Len()
		}
		data := buf.Bytes()
		start := 0
		for k := lo; k < hi; k++ {
			end := ends[k-lo]
			out.rendered[which[k]] = data[start:end:end]
			start = end
		}
	})

	created := now.UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	store := &s.st.items[b.kind]
	for k, i := range which {
		seq := first + uint64(k)
		ps := pools[k]
		store.put(seq, record{created: created, pool: ps.index, overlap: overlaps[k]}, out.rendered[i])
		ps.items[b.kind] = insertSorted(ps.items[b.kind], seq)
	}
	return out
}

// insertSorted appends seq, keeping the list ascending when concurrent
// batches store out of order.
func insertSorted(list []uint64, seq uint64) []uint64 {
	if len(list) == 0 || list[len(list)-1] < seq {
		return append(list, seq)
	}
	pos := sort.Search(len(list), func(j int) bool { return list[j] > seq })
	list = append(list, 0)
	copy(list[pos+1:], list[pos:])
	list[pos] = seq
	return list
}

func overlapPtr(o toloka.Overlap) (*int64, bool) {
	if n, ok := o.Count(); ok {
		return &n, false
	}
	if o.IsInfinite() {
		return nil, true
	}
	one := int64(1)
	return &one, false
}

func taskViewOf(t *toloka.Task, id string, count *int64, infinite bool, now toloka.Timestamp) taskView {
	return taskView{
		ID:                       id,
		PoolID:                   t.PoolID,
		InputValues:              t.InputValues,
		KnownSolutions:           t.KnownSolutions,
		MessageOnUnknownSolution: t.MessageOnUnknownSolution,
		BaselineSolutions:        t.BaselineSolutions,
		Overlap:                  count,
		InfiniteOverlap:          infinite,
		RemainingOverlap:         count,
		ReservedFor:              t.ReservedFor,
		UnavailableFor:           t.UnavailableFor,
		TraitsAllOf:              t.TraitsAllOf,
		TraitsAnyOf:              t.TraitsAnyOf,
		TraitsNoneOfAny:          t.TraitsNoneOfAny,
		LocalizationConfig:       t.LocalizationConfig,
		Created:                  now,
	}
}

func suiteViewOf(su *toloka.TaskSuite, id, prefix string, seq uint64, count *int64, infinite bool, now toloka.Timestamp) suiteView {
	v := suiteView{
		ID:               id,
		PoolID:           su.PoolID,
		Tasks:            make([]suiteTaskView, len(su.Tasks)),
		Overlap:          count,
		InfiniteOverlap:  infinite,
		RemainingOverlap: count,
		ReservedFor:      su.ReservedFor,
		UnavailableFor:   su.UnavailableFor,
		Latitude:         su.Latitude,
		Longitude:        su.Longitude,
		TraitsAllOf:      su.TraitsAllOf,
		TraitsAnyOf:      su.TraitsAnyOf,
		TraitsNoneOfAny:  su.TraitsNoneOfAny,
		Created:          now,
	}
	if su.IssuingOrderOverride != nil {
		v.IssuingOrderOverride = *su.IssuingOrderOverride
	}
	if su.Mixed != nil {
		v.Mixed = *su.Mixed
	}
	for k, t := range su.Tasks {
		v.Tasks[k] = suiteTaskView{
			ID:                       makeInsideID(prefix, seq, k),
			InputValues:              t.InputValues,
			KnownSolutions:           t.KnownSolutions,
			MessageOnUnknownSolution: t.MessageOnUnknownSolution,
			LocalizationConfig:       t.LocalizationConfig,
		}
	}
	return v
}

// now is the server clock as Toloka writes times: UTC, milliseconds.
func (s *Server) now() toloka.Timestamp {
	return toloka.Timestamp{Time: s.clock.Now().UTC().Truncate(time.Millisecond)}
}
