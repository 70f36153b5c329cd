package incident

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		give string
		n    int
		want string
	}{
		{name: "short enough", give: "disk full", n: 20, want: "disk full"},
		{name: "exactly n", give: "abcde", n: 5, want: "abcde"},
		{name: "ascii cut leaves room for the ellipsis", give: "abcdefghij", n: 6, want: "abc…"},
		// "é" is 2 bytes; a cut at 4 bytes would split the second one.
		{name: "two-byte runes", give: "éééééé", n: 7, want: "éé…"},
		// "€" is 3 bytes, "𝄞" is 4.
		{name: "three-byte runes", give: "€€€€€€", n: 10, want: "€€…"},
		{name: "four-byte runes", give: "𝄞𝄞𝄞𝄞", n: 9, want: "𝄞…"},
		{name: "first rune does not fit", give: "𝄞𝄞𝄞𝄞", n: 5, want: "…"},
		{name: "smaller than the ellipsis", give: "abcdef", n: 2, want: "ab"},
		{name: "zero", give: "abcdef", n: 0, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := truncate(tt.give, tt.n)
			if got != tt.want {
				t.Errorf("truncate(%q, %d): got %q, want %q", tt.give, tt.n, got, tt.want)
			}
			if len(got) > tt.n {
				t.Errorf("truncate(%q, %d): got %d bytes, want at most %d", tt.give, tt.n, len(got), tt.n)
			}
			if !utf8.ValidString(got) {
				t.Errorf("truncate(%q, %d): got invalid UTF-8 %q", tt.give, tt.n, got)
			}
		})
	}
}

func TestTruncateLongTitles(t *testing.T) {
	// Every cut position through a mix of 1-4 byte runes stays valid UTF-8,
	// within the limit, and a prefix of the original.
	s := strings.Repeat("aé€𝄞", 80)
	for n := 0; n <= len(s); n++ {
		got := truncate(s, n)
		body := strings.TrimSuffix(got, "…")
		if len(got) > n || !utf8.ValidString(got) || !strings.HasPrefix(s, body) {
			t.Fatalf("truncate(s, %d): got %q (%d bytes), want a valid prefix of at most %d bytes", n, got, len(got), n)
		}
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add("éééééé", 7)
	f.Add("𝄞𝄞𝄞𝄞", 5)
	f.Add("abc", 0)
	f.Add("\xff\xfe\xfd\xfc", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<16 {
			return // callers pass fixed positive limits
		}
		got := truncate(s, n)
		if len(got) > n {
			t.Fatalf("truncate(%q, %d): got %d bytes, want at most %d", s, n, len(got), n)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("truncate(%q, %d): got invalid UTF-8 %q from valid input", s, n, got)
		}
		if body := strings.TrimSuffix(got, "…"); !strings.HasPrefix(s, body) {
			t.Fatalf("truncate(%q, %d): got %q, want a prefix of the input", s, n, got)
		}
	})
}
