package tolokatest

import (
	"bytes"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gotoloka/toloka"
)

// listQuery is what the list endpoints share (toloka-api.md §15): sort keys,
// limit and the id range.
type listQuery struct {
	sort  []sortKey
	limit int
	idGT  string
	idGTE string
	idLT  string
	idLTE string
}

type sortKey struct {
	name string
	desc bool
}

const defaultListLimit = 50

func parseListQuery(q map[string][]string, keys []string, maxLimit, cfgMax int) (listQuery, *apiError) {
	if cfgMax < maxLimit {
		maxLimit = cfgMax
	}
	f := listQuery{limit: defaultListLimit, idGT: first(q, "id_gt"), idGTE: first(q, "id_gte"), idLT: first(q, "id_lt"), idLTE: first(q, "id_lte")}
	if raw := first(q, "limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		switch {
		case err != nil:
			return f, badParam("limit", "INTEGER_EXPECTED", "Value must be an integer")
		case n < 1:
			return f, badParam("limit", toloka.CodeValueLessThanMin, "Value must be greater or equal to 1")
		case n > maxLimit:
			return f, badParam("limit", toloka.CodeValueGreaterThanMax, "Value must be less or equal to "+strconv.Itoa(maxLimit))
		}
		f.limit = n
	}
	raw := first(q, "sort")
	if raw == "" {
		raw = "id" // Toloka's order when none is asked for is undocumented; id is what pagination needs
	}
	for _, part := range strings.Split(raw, ",") {
		k := sortKey{name: strings.TrimSpace(part)}
		if strings.HasPrefix(k.name, "-") {
			k.desc, k.name = true, k.name[1:]
		}
		if !contains(keys, k.name) {
			return f, badParam("sort", "UNKNOWN_ENUM_VALUE", "Sort by one of "+strings.Join(keys, ", ")+", with - for descending")
		}
		f.sort = append(f.sort, k)
	}
	return f, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (f *listQuery) idIn(id string) bool {
	return (f.idGT == "" || id > f.idGT) && (f.idGTE == "" || id >= f.idGTE) &&
		(f.idLT == "" || id < f.idLT) && (f.idLTE == "" || id <= f.idLTE)
}

func (f *listQuery) idOnly() (asc, desc bool) {
	if len(f.sort) == 1 && f.sort[0].name == "id" {
		return !f.sort[0].desc, f.sort[0].desc
	}
	return false, false
}

// listRow is one candidate of a list answer.
type listRow struct {
	id    string
	times map[string]time.Time
	data  []byte
}

func (r *listRow) key(name string) (string, time.Time) {
	if name == "id" {
		return r.id, time.Time{}
	}
	return "", r.times[name]
}

// page sorts the rows, keeps limit of them, and renders
// {"items": [...], "has_more": bool} (toloka-api.md §15.1).
func (f *listQuery) page(rows []listRow) response {
	sort.SliceStable(rows, func(i, j int) bool {
		for _, k := range f.sort {
			si, ti := rows[i].key(k.name)
			sj, tj := rows[j].key(k.name)
			var c int
			switch {
			case k.name == "id":
				c = strings.Compare(si, sj)
			default:
				c = ti.Compare(tj)
			}
			if c != 0 {
				return c < 0 != k.desc
			}
		}
		return false
	})
	more := len(rows) > f.limit
	if more {
		rows = rows[:f.limit]
	}
	size := 32
	for _, r := range rows {
		size += len(r.data) + 1
	}
	var buf bytes.Buffer
	buf.Grow(size)
	buf.WriteString(`{"items":[`)
	for i, r := range rows {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(r.data)
	}
	buf.WriteString(`],"has_more":`)
	buf.WriteString(strconv.FormatBool(more))
	buf.WriteByte('}')
	return response{status: http.StatusOK, body: buf.Bytes()}
}

// timeBounds are the *_gt/_gte/_lt/_lte filters on timestamps.
type timeBounds map[string]time.Time

func parseTimeBounds(q map[string][]string, fields ...string) (timeBounds, *apiError) {
	b := timeBounds{}
	for _, field := range fields {
		for _, op := range [...]string{"_gt", "_gte", "_lt", "_lte"} {
			raw := first(q, field+op)
			if raw == "" {
				continue
			}
			ts, err := toloka.ParseTimestamp(raw)
			if err != nil {
				return nil, badParam(field+op, "INVALID_DATE_TIME_SYNTAX", "Value must be a date-time like 2023-03-28T11:06:09.827")
			}
			b[field+op] = ts.Time
		}
	}
	return b, nil
}

func (b timeBounds) match(field string, t time.Time) bool {
	if len(b) == 0 {
		return true
	}
	for op, bound := range b {
		name, suffix, _ := strings.Cut(op, "_")
		if name != field {
			continue
		}
		if t.IsZero() {
			return false
		}
		c := t.Compare(bound)
		switch suffix {
		case "gt":
			if c <= 0 {
				return false
			}
		case "gte":
			if c < 0 {
				return false
			}
		case "lt":
			if c >= 0 {
				return false
			}
		case "lte":
			if c > 0 {
				return false
			}
		}
	}
	return true
}

// overlapBounds are the overlap filters of GET /tasks and /task-suites.
type overlapBounds struct {
	set    bool
	eq     *int64
	lo, hi int64 // inclusive
}

func parseOverlapBounds(q map[string][]string) (overlapBounds, *apiError) {
	b := overlapBounds{lo: -1 << 62, hi: 1 << 62}
	for _, name := range [...]string{"overlap", "overlap_gt", "overlap_gte", "overlap_lt", "overlap_lte"} {
		raw := first(q, name)
		if raw == "" {
			continue
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return b, badParam(name, "INTEGER_EXPECTED", "Value must be an integer")
		}
		b.set = true
		switch name {
		case "overlap":
			b.eq = &n
		case "overlap_gt":
			b.lo = max(b.lo, n+1)
		case "overlap_gte":
			b.lo = max(b.lo, n)
		case "overlap_lt":
			b.hi = min(b.hi, n-1)
		case "overlap_lte":
			b.hi = min(b.hi, n)
		}
	}
	return b, nil
}

// match reports whether a stored overlap passes; an infinite overlap (-1)
// passes no overlap filter.
func (b overlapBounds) match(overlap int32) bool {
	if !b.set {
		return true
	}
	if overlap < 0 {
		return false
	}
	o := int64(overlap)
	return (b.eq == nil || *b.eq == o) && o >= b.lo && o <= b.hi
}

// listItems serves GET /tasks and GET /task-suites (toloka-api.md §15.1,
// §15.2). Items of a pool are kept in id order, so the common
// "sort=id&id_gt=..." page costs a binary search and limit reads.
func (s *Server) listItems(kind itemKind, q map[string][]string) (response, *apiError) {
	f, e := parseListQuery(q, []string{"id", "created"}, s.cfg.maxListLimit, s.cfg.maxListLimit)
	if e != nil {
		return response{}, e
	}
	created, e := parseTimeBounds(q, "created")
	if e != nil {
		return response{}, e
	}
	overlap, e := parseOverlapBounds(q)
	if e != nil {
		return response{}, e
	}
	poolID, taskID := first(q, "pool_id"), first(q, "task_id")
	if poolID == "" && (kind == kindTask || taskID == "") {
		msg := "Value must be present: pass pool_id"
		if kind == kindSuite {
			msg = "Value must be present: pass pool_id or task_id"
		}
		return response{}, badParam("pool_id", toloka.CodeValueRequired, msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	store := &s.st.items[kind]
	var seqs []uint64
	if kind == kindSuite && taskID != "" {
		if nib, seq, ok := parseID(taskID); ok && nib == nibbleInside {
			if r, ok := store.get(seq); ok && (poolID == "" || s.st.poolList[r.pool].pool.ID == poolID) {
				seqs = []uint64{seq}
			}
		}
	} else if ps, ok := s.st.pools[poolID]; ok {
		seqs = ps.items[kind]
	}
	match := func(seq uint64) (listRow, bool) {
		r, ok := store.get(seq)
		if !ok || !overlap.match(r.overlap) {
			return listRow{}, false
		}
		row := listRow{data: store.json(r)}
		row.id = s.itemID(kind, r, seq)
		if !f.idIn(row.id) {
			return listRow{}, false
		}
		at := time.UnixMilli(r.created).UTC()
		if !created.match("created", at) {
			return listRow{}, false
		}
		row.times = map[string]time.Time{"created": at}
		return row, true
	}
	asc, desc := f.idOnly()
	var rows []listRow
	switch {
	case asc:
		start := 0
		if lower := max(f.idGT, f.idGTE); lower != "" && len(seqs) > 0 {
			start = sort.Search(len(seqs), func(j int) bool {
				r, _ := store.get(seqs[j])
				return s.itemID(kind, r, seqs[j]) >= lower
			})
		}
		for j := start; j < len(seqs) && len(rows) <= f.limit; j++ {
			if row, ok := match(seqs[j]); ok {
				rows = append(rows, row)
			}
		}
	case desc:
		for j := len(seqs) - 1; j >= 0 && len(rows) <= f.limit; j-- {
			if row, ok := match(seqs[j]); ok {
				rows = append(rows, row)
			}
		}
	default:
		for _, seq := range seqs {
			if row, ok := match(seq); ok {
				rows = append(rows, row)
			}
		}
	}
	return f.page(rows), nil
}

// itemID rebuilds a stored item's id from its pool and sequence.
func (s *Server) itemID(kind itemKind, r record, seq uint64) string {
	nib := byte(nibbleTask)
	if kind == kindSuite {
		nib = nibbleSuite
	}
	return makeID(s.st.poolList[r.pool].prefix, nib, seq)
}

// getItem serves GET /tasks/{id} and GET /task-suites/{id} (§15.3).
func (s *Server) getItem(kind itemKind, id string) (response, *apiError) {
	what := "task"
	want := byte(nibbleTask)
	if kind == kindSuite {
		what, want = "task suite", nibbleSuite
	}
	nib, seq, ok := parseID(id)
	if !ok || nib != want {
		return response{}, notFound(what, id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	store := &s.st.items[kind]
	r, ok := store.get(seq)
	if !ok || s.itemID(kind, r, seq) != id {
		return response{}, notFound(what, id)
	}
	data := store.json(r)
	return response{status: http.StatusOK, body: append([]byte(nil), data...)}, nil
}
