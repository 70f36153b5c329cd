// Package text clips text for storage and display without cutting a UTF-8
// character in half (Clip), cleans human-visible text of control characters,
// terminal escapes and bidi controls (Clean, CleanLines), and escapes what a
// terminal would act on (Escape). It imports nothing of the platform, so any
// package may use it.
package text

import (
	"strings"
	"unicode/utf8"
)

// A Mode says how Clip measures and cuts; modes combine with |.
type Mode uint

const (
	// Bytes: limit counts bytes (the zero Mode).
	Bytes Mode = 0
	// Runes: limit counts characters (runes) instead of bytes.
	Runes Mode = 1 << iota
	// Valid replaces each run of invalid UTF-8 with U+FFFD before measuring,
	// so that the result is valid UTF-8 within the limit. Without it invalid
	// bytes are kept as they are (each counts as one rune).
	Valid
	// MarkExtra adds the mark after limit units of text instead of counting
	// it within limit: a clipped result is then up to the mark longer than
	// limit. Without it a result never exceeds limit, and a cut goes unmarked
	// when the mark alone does not fit.
	MarkExtra
	// TrimSpace trims white space off both ends of a clipped text
	// (strings.TrimSpace) before the mark is added, so that no mark follows
	// a space. Text that fits is returned as it is.
	TrimSpace
)

// Clip returns s as it is if it fits in limit bytes (or, with Runes,
// characters); otherwise the longest prefix of s that fits, cut on a
// character boundary, with mark (such as "…") added to show the cut.
// A negative limit counts as 0.
func Clip(s string, limit int, mark string, mode Mode) string {
	if mode&Valid != 0 {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	size := func(s string) int { return len(s) }
	if mode&Runes != 0 {
		size = utf8.RuneCountInString
	}
	limit = max(limit, 0)
	if size(s) <= limit {
		return s
	}
	keep := limit
	if mode&MarkExtra == 0 {
		if size(mark) > limit {
			mark = ""
		}
		keep -= size(mark)
	}
	var cut int
	if mode&Runes != 0 {
		cut = len(s)
		n := 0
		for i := range s {
			if n == keep {
				cut = i
				break
			}
			n++
		}
	} else {
		// len(s) > limit >= keep, so s[keep] exists.
		cut = keep
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
	}
	kept := s[:cut]
	if mode&TrimSpace != 0 {
		kept = strings.TrimSpace(kept)
	}
	return kept + mark
}
