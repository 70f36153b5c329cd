package incident

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

// crockford is Crockford's base 32 alphabet, lower-cased: ids are case-insensitive
// and carry no ambiguous letters.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns a 26-character ULID for t: ids sort by creation time and need no
// coordination between writers.
func NewID(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails on supported platforms
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
