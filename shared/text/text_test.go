package text_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/incidentd/incidentd/shared/text"
)

func TestClip(t *testing.T) {
	tests := []struct {
		name  string
		give  string
		limit int
		mark  string
		mode  text.Mode
		want  string
	}{
		// Bytes, no mark.
		{name: "empty", give: "", limit: 5, want: ""},
		{name: "empty, zero limit", give: "", limit: 0, want: ""},
		{name: "fits", give: "disk full", limit: 20, want: "disk full"},
		{name: "exactly limit", give: "abcde", limit: 5, want: "abcde"},
		{name: "ascii cut", give: "abcdefghij", limit: 4, want: "abcd"},
		{name: "zero limit", give: "abc", limit: 0, want: ""},
		{name: "negative limit", give: "abc", limit: -3, want: ""},
		// "é" is 2 bytes, "€" 3, "𝄞" 4: a cut inside one backs off to its start.
		{name: "two-byte rune at the cut", give: "aéb", limit: 2, want: "a"},
		{name: "three-byte rune at the cut", give: "a€b", limit: 3, want: "a"},
		{name: "four-byte rune at the cut", give: "a𝄞b", limit: 4, want: "a"},
		{name: "rune ends at the cut", give: "a𝄞b", limit: 5, want: "a𝄞"},
		{name: "first rune does not fit", give: "𝄞", limit: 3, want: ""},
		{name: "invalid bytes kept", give: "a\xffb\xfec", limit: 4, want: "a\xffb\xfe"},
		{name: "stray continuation bytes back off", give: "a\x80\x80\x80", limit: 2, want: ""},

		// Bytes, mark counted within the limit (incident's titles and texts).
		{name: "within: short enough", give: "disk full", limit: 20, mark: "…", want: "disk full"},
		{name: "within: fits", give: "abcde", limit: 5, mark: "…", want: "abcde"},
		{name: "within: ascii leaves room for the mark", give: "abcdefghij", limit: 6, mark: "…", want: "abc…"},
		{name: "within: two-byte runes", give: "éééééé", limit: 7, mark: "…", want: "éé…"},
		{name: "within: three-byte runes", give: "€€€€€€", limit: 10, mark: "…", want: "€€…"},
		{name: "within: four-byte runes", give: "𝄞𝄞𝄞𝄞", limit: 9, mark: "…", want: "𝄞…"},
		{name: "within: only the mark fits", give: "𝄞𝄞𝄞𝄞", limit: 5, mark: "…", want: "…"},
		{name: "within: limit smaller than the mark", give: "abcdef", limit: 2, mark: "…", want: "ab"},
		{name: "within: zero", give: "abcdef", limit: 0, mark: "…", want: ""},
		{name: "within: invalid bytes kept", give: "\xff\xfe\xfd\xfc\xfb", limit: 4, mark: "…", want: "\xff…"},

		// Bytes, mark added beyond the limit (on-call's quoted values).
		{name: "extra: fits", give: "abcd", limit: 4, mark: "…", mode: text.MarkExtra, want: "abcd"},
		{name: "extra: one byte over", give: "abcde", limit: 4, mark: "…", mode: text.MarkExtra, want: "abcd…"},
		{name: "extra: multibyte at the boundary", give: "abc€def", limit: 4, mark: "…", mode: text.MarkExtra, want: "abc…"},
		{name: "extra: limit smaller than the mark", give: "abcdef", limit: 1, mark: "…", mode: text.MarkExtra, want: "a…"},
		{name: "extra: zero", give: "abcdef", limit: 0, mark: "…", mode: text.MarkExtra, want: "…"},

		// Bytes, mark beyond, white space trimmed at the cut (logscan's templates).
		{name: "trim: space before the cut", give: "disk full on /var", limit: 10, mark: "…", mode: text.MarkExtra | text.TrimSpace, want: "disk full…"},
		{name: "trim: leading space of a clipped text", give: " \u00a0disk full", limit: 7, mark: "…", mode: text.MarkExtra | text.TrimSpace, want: "disk…"},
		{name: "trim: text that fits is kept as it is", give: " disk ", limit: 10, mark: "…", mode: text.MarkExtra | text.TrimSpace, want: " disk "},

		// Bytes, invalid UTF-8 replaced first (Slack request fields).
		{name: "valid: replaced then measured", give: "ab\xffcd", limit: 4, mode: text.Valid, want: "ab"},
		{name: "valid: run of invalid bytes is one U+FFFD", give: "\xff\xfe\xfd", limit: 3, mode: text.Valid, want: "\uFFFD"},
		{name: "valid: fits after replacing", give: "a\xff", limit: 4, mode: text.Valid, want: "a\uFFFD"},

		// Runes (Slack's character limits), mark within, invalid replaced.
		{name: "runes: fits", give: "ééé", limit: 3, mark: "…", mode: text.Runes | text.Valid, want: "ééé"},
		{name: "runes: cut", give: "éééé", limit: 3, mark: "…", mode: text.Runes | text.Valid, want: "éé…"},
		{name: "runes: mixed widths", give: "a€𝄞bc", limit: 4, mark: "…", mode: text.Runes | text.Valid, want: "a€𝄞…"},
		{name: "runes: only the mark fits", give: "abc", limit: 1, mark: "…", mode: text.Runes | text.Valid, want: "…"},
		{name: "runes: limit smaller than the mark", give: "abc", limit: 1, mark: "[cut]", mode: text.Runes | text.Valid, want: "a"},
		{name: "runes: zero", give: "abc", limit: 0, mark: "…", mode: text.Runes | text.Valid, want: ""},
		{name: "runes: invalid run counts as one", give: "a\xff\xfeb", limit: 3, mark: "…", mode: text.Runes | text.Valid, want: "a\uFFFDb"},
		{name: "runes: invalid bytes kept without Valid", give: "a\xff\xfeb", limit: 3, mark: "…", mode: text.Runes, want: "a\xff…"},
		{name: "runes: empty", give: "", limit: 3, mark: "…", mode: text.Runes | text.Valid, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := text.Clip(tt.give, tt.limit, tt.mark, tt.mode)
			if got != tt.want {
				t.Errorf("Clip(%q, %d, %q, %d): got %q, want %q", tt.give, tt.limit, tt.mark, tt.mode, got, tt.want)
			}
		})
	}
}

// Every cut through a mix of 1-4 byte runes is valid UTF-8, within the limit
// (plus the mark with MarkExtra) and a prefix of the input.
func TestClipEveryCut(t *testing.T) {
	s := strings.Repeat("aé€𝄞 ", 20)
	modes := []text.Mode{text.Bytes, text.MarkExtra, text.MarkExtra | text.TrimSpace, text.Runes, text.Valid, text.Runes | text.Valid}
	for _, mode := range modes {
		size := func(s string) int { return len(s) }
		if mode&text.Runes != 0 {
			size = utf8.RuneCountInString
		}
		for limit := 0; limit <= size(s)+1; limit++ {
			got := text.Clip(s, limit, "…", mode)
			body := strings.TrimSuffix(got, "…")
			bound := limit
			if mode&text.MarkExtra != 0 {
				bound += size("…")
			}
			if size(got) > bound || !utf8.ValidString(got) || !strings.HasPrefix(s, body) {
				t.Fatalf("Clip(s, %d, \"…\", %d): got %q, want a valid prefix within %d", limit, mode, got, bound)
			}
		}
	}
}

func FuzzClip(f *testing.F) {
	f.Add("éééééé", 7, "…", uint(0))
	f.Add("𝄞𝄞𝄞𝄞", 5, "…", uint(text.Runes))
	f.Add("\xff\xfe\xfd\xfc", 2, "", uint(text.Valid))
	f.Add(" a b c ", 3, "…", uint(text.MarkExtra|text.TrimSpace))
	f.Fuzz(func(t *testing.T, s string, limit int, mark string, m uint) {
		mode := text.Mode(m) & (text.Runes | text.Valid | text.MarkExtra | text.TrimSpace)
		if limit > 1<<16 || !utf8.ValidString(mark) {
			return
		}
		got := text.Clip(s, limit, mark, mode)
		size := func(s string) int { return len(s) }
		if mode&text.Runes != 0 {
			size = utf8.RuneCountInString
		}
		bound := max(limit, 0)
		if mode&text.MarkExtra != 0 {
			bound += size(mark)
		}
		if size(got) > bound {
			t.Fatalf("Clip(%q, %d, %q, %d): got %q, longer than %d", s, limit, mark, mode, got, bound)
		}
		if (utf8.ValidString(s) || mode&text.Valid != 0) && !utf8.ValidString(got) {
			t.Fatalf("Clip(%q, %d, %q, %d): got invalid UTF-8 %q", s, limit, mark, mode, got)
		}
		if mode&(text.Valid|text.TrimSpace) == 0 && got != s {
			if body, ok := strings.CutSuffix(got, mark); !strings.HasPrefix(s, got) && !(ok && strings.HasPrefix(s, body)) {
				t.Fatalf("Clip(%q, %d, %q, %d): got %q, want a prefix of the input and the mark", s, limit, mark, mode, got)
			}
		}
	})
}
