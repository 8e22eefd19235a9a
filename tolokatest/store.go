package tolokatest

import (
	"fmt"
	"hash/fnv"
	"strconv"
)

// itemKind says which collection an item belongs to.
type itemKind int

const (
	kindTask itemKind = iota
	kindSuite
)

func (k itemKind) collection() string {
	if k == kindSuite {
		return "task-suites"
	}
	return "tasks"
}

// ID layout: "<10 hex of the pool>--<kind nibble><23 hex of the sequence>",
// the shape of Toloka's ids ("000248a756--6422ca21e5997032541d856b",
// toloka-api.md §1.3), which sort as strings in creation order within a pool
// (§15.4). The nibble keeps tasks, suites and tasks inside suites apart; a
// suite's task carries the suite's sequence and its position.
const (
	idLen        = 36
	nibbleTask   = '0'
	nibbleSuite  = '1'
	nibbleInside = '2'
)

// poolPrefix is the pool part of item ids: the pool id in hex when numeric
// (as Toloka does), a hash otherwise.
func poolPrefix(poolID string) string {
	if n, err := strconv.ParseUint(poolID, 10, 64); err == nil && n < 1<<40 {
		return fmt.Sprintf("%010x", n)
	}
	h := fnv.New64a()
	h.Write([]byte(poolID))
	return fmt.Sprintf("%010x", h.Sum64()&(1<<40-1))
}

func makeID(prefix string, nibble byte, seq uint64) string {
	b := make([]byte, 0, idLen)
	b = append(b, prefix...)
	b = append(b, '-', '-', nibble)
	return string(appendHex(b, seq, 23))
}

func makeInsideID(prefix string, suiteSeq uint64, k int) string {
	b := make([]byte, 0, idLen)
	b = append(b, prefix...)
	b = append(b, '-', '-', nibbleInside)
	b = appendHex(b, suiteSeq, 15)
	return string(appendHex(b, uint64(k), 8))
}

func appendHex(b []byte, v uint64, width int) []byte {
	const digits = "0123456789abcdef"
	for i := width - 1; i >= 0; i-- {
		b = append(b, digits[(v>>(4*uint(i)))&0xf])
	}
	return b
}

// parseID returns the nibble and sequence of an id made by makeID.
func parseID(id string) (nibble byte, seq uint64, ok bool) {
	if len(id) != idLen || id[10] != '-' || id[11] != '-' {
		return 0, 0, false
	}
	hex := id[13:]
	if id[12] == nibbleInside {
		hex = id[13:28]
	}
	v, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return 0, 0, false
	}
	return id[12], v, true
}

// record is one stored task or suite. It holds no pointers, so a million of
// them cost the garbage collector nothing to scan; the JSON lives in the
// store's arena.
type record struct {
	created int64 // Unix milliseconds
	pool    uint32
	chunk   uint32
	off     uint32
	n       uint32 // 0 while the slot is reserved but not yet filled
	overlap int32  // -1 when infinite
}

// itemStore keeps items as rendered JSON in large chunks, indexed by sequence
// number (sequence s is recs[s-1]).
type itemStore struct {
	recs  []record
	arena [][]byte
}

const chunkSize = 4 << 20

// reserve allocates n sequence numbers and returns the first.
func (st *itemStore) reserve(n int) uint64 {
	first := uint64(len(st.recs)) + 1
	st.recs = append(st.recs, make([]record, n)...)
	return first
}

// put stores the JSON of sequence seq.
func (st *itemStore) put(seq uint64, rec record, data []byte) {
	if len(st.arena) == 0 || len(st.arena[len(st.arena)-1])+len(data) > cap(st.arena[len(st.arena)-1]) {
		size := chunkSize
		if len(data) > size {
			size = len(data)
		}
		st.arena = append(st.arena, make([]byte, 0, size))
	}
	c := len(st.arena) - 1
	rec.chunk = uint32(c)
	rec.off = uint32(len(st.arena[c]))
	rec.n = uint32(len(data))
	st.arena[c] = append(st.arena[c], data...)
	st.recs[seq-1] = rec
}

// get returns the record of seq, if filled.
func (st *itemStore) get(seq uint64) (record, bool) {
	if seq == 0 || seq > uint64(len(st.recs)) {
		return record{}, false
	}
	r := st.recs[seq-1]
	return r, r.n > 0
}

// json returns the stored JSON of a record; callers must not modify it.
func (st *itemStore) json(r record) []byte {
	return st.arena[r.chunk][r.off : r.off+r.n : r.off+r.n]
}
