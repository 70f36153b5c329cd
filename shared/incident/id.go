package incident

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// crockford is Crockford's base 32 alphabet, lower-cased: ids are case-insensitive
// and carry no ambiguous letters.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// idSeqs hold the random part of the last id made in each of the last few
// milliseconds. An id of one of those milliseconds continues its sequence
// (ULID's monotonic mode), so that entries written together (opened, report,
// severity_changed) share a time and still sort in the order they were made:
// the timeline orders entries of one time by id. Several milliseconds are kept
// because one change mixes times (a reopen writes at now, at the signal's
// time, and at now again).
var idSeqs struct {
	sync.Mutex
	seqs [8]idSeq
	tick uint64
}

type idSeq struct {
	last uint64 // tick of its last use; 0: never used
	ms   uint64
	rand [10]byte
}

// NewID returns a 26-character ULID for t: ids sort by creation time and need no
// coordination between writers. Within one process, ids made for one
// millisecond sort in the order they were made.
func NewID(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	idSeqs.Lock()
	idSeqs.tick++
	var seq *idSeq // the millisecond's sequence, else the least recently used
	for i := range idSeqs.seqs {
		s := &idSeqs.seqs[i]
		if s.last != 0 && s.ms == ms {
			seq = s
			break
		}
		if seq == nil || s.last < seq.last {
			seq = s
		}
	}
	if seq.last == 0 || seq.ms != ms || !increment(seq.rand[:]) {
		_, _ = rand.Read(seq.rand[:]) // crypto/rand.Read never fails on supported platforms
		seq.ms = ms
	}
	seq.last = idSeqs.tick
	copy(b[6:], seq.rand[:])
	idSeqs.Unlock()
	// 128 bits → 26 base-32 digits, the first holding 3 bits.
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// increment adds one to the big-endian number in b; it reports false when b
// overflowed (and wrapped to zero).
func increment(b []byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		b[i]++
		if b[i] != 0 {
			return true
		}
	}
	return false
}

// ValidID reports whether id looks like an id made by NewID.
func ValidID(id string) bool {
	if len(id) != 26 || id[0] > '7' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' && c != 'i' && c != 'l' && c != 'o' && c != 'u') {
			return false
		}
	}
	return true
}
