package text_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/incidentd/incidentd/shared/text"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name      string
		give      string
		want      string // Clean
		wantLines string // CleanLines
	}{
		{name: "plain", give: "Checkout is down", want: "Checkout is down", wantLines: "Checkout is down"},
		{name: "empty", give: "", want: "", wantLines: ""},
		{name: "ANSI colour", give: "\x1b[31;1mred\x1b[0m alert", want: "red alert", wantLines: "red alert"},
		{name: "ANSI clear screen and cursor", give: "a\x1b[2J\x1b[Hb", want: "ab", wantLines: "ab"},
		{name: "OSC title, BEL", give: "x\x1b]0;pwned\x07y", want: "xy", wantLines: "xy"},
		{name: "OSC hyperlink, ST", give: "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", want: "link", wantLines: "link"},
		{name: "two-character escape", give: "a\x1bcb", want: "ab", wantLines: "ab"},
		{name: "lone ESC at the end", give: "a\x1b", want: "a", wantLines: "a"},
		{name: "C1 CSI", give: "a\u009b31mb", want: "ab", wantLines: "ab"},
		{name: "C1 control", give: "a\u0085b", want: "ab", wantLines: "ab"},
		{name: "NUL, BEL, backspace, DEL", give: "a\x00b\x07c\x08d\x7fe", want: "abcde", wantLines: "abcde"},
		{name: "bidi override", give: "file\u202Etxt.exe", want: "filetxt.exe", wantLines: "filetxt.exe"},
		{name: "bidi isolates and marks", give: "\u2066a\u2069\u200eb\u200fc\u061cd\u202a\u202c", want: "abcd", wantLines: "abcd"},
		{name: "line feed", give: "one\ntwo", want: "one two", wantLines: "one\ntwo"},
		{name: "CR LF", give: "one\r\ntwo", want: "one two", wantLines: "one\ntwo"},
		{name: "lone CR", give: "one\rtwo", want: "one two", wantLines: "one\ntwo"},
		{name: "line separator", give: "one\u2028two", want: "one two", wantLines: "one\ntwo"},
		{name: "tab", give: "a\tb", want: "a b", wantLines: "a\tb"},
		{name: "invalid UTF-8", give: "a\xffb", want: "a\uFFFDb", wantLines: "a\uFFFDb"},
		{name: "right-to-left text stays", give: "שלום עולם", want: "שלום עולם", wantLines: "שלום עולם"},
		{name: "emoji with joiner stays", give: "on fire 👩\u200d🚒", want: "on fire 👩\u200d🚒", wantLines: "on fire 👩\u200d🚒"},
		{name: "accents stay", give: "Café €5", want: "Café €5", wantLines: "Café €5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := text.Clean(tt.give); got != tt.want {
				t.Errorf("Clean(%q): got %q, want %q", tt.give, got, tt.want)
			}
			if got := text.CleanLines(tt.give); got != tt.wantLines {
				t.Errorf("CleanLines(%q): got %q, want %q", tt.give, got, tt.wantLines)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{name: "plain", give: "PAGE alice SEV2 checkout", want: "PAGE alice SEV2 checkout"},
		{name: "line feed and tab stay", give: "a\n\tb", want: "a\n\tb"},
		{name: "ESC", give: "\x1b[31mred", want: `\x1b[31mred`},
		{name: "bidi override", give: "a\u202eb", want: `a\u202eb`},
		{name: "C1", give: "a\u0085b", want: `a\u0085b`},
		{name: "invalid byte", give: "a\xffb", want: `a\xffb`},
		{name: "unicode stays", give: "Café 👩\u200d🚒", want: "Café 👩\u200d🚒"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := text.Escape(tt.give); got != tt.want {
				t.Errorf("Escape(%q): got %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

func TestEscapeLine(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{name: "plain", give: "PAGE level 1 → alice", want: "PAGE level 1 → alice"},
		{name: "line feed and tab", give: "a\n\tb", want: `a\n\tb`},
		{name: "ESC", give: "\x1b[2Jx", want: `\x1b[2Jx`},
		{name: "bidi isolate", give: "a\u2066b", want: `a\u2066b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := text.EscapeLine(tt.give); got != tt.want {
				t.Errorf("EscapeLine(%q): got %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

// bad reports a rune Clean must never leave: a control other than line feed
// and tab, or a bidi control.
func bad(r rune) bool {
	return r != '\n' && r != '\t' && (unicode.IsControl(r) ||
		r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c)
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "a\x1b[31mb", "\x1b]0;x\x07", "\u202e", "a\r\nb", "\xff\xfe", "\x1b", "\u009b1", "\x1b]x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		one, lines := text.Clean(s), text.CleanLines(s)
		for _, out := range []string{one, lines} {
			if !utf8.ValidString(out) {
				t.Fatalf("Clean(%q) = %q: invalid UTF-8", s, out)
			}
			if i := strings.IndexFunc(out, bad); i >= 0 {
				t.Fatalf("Clean(%q) = %q: a control or bidi character at %d", s, out, i)
			}
		}
		if strings.ContainsAny(one, "\n\t") {
			t.Fatalf("Clean(%q) = %q: a line break or tab in one line", s, one)
		}
		if again := text.Clean(one); again != one {
			t.Fatalf("Clean is not idempotent: %q → %q → %q", s, one, again)
		}
		if again := text.CleanLines(lines); again != lines {
			t.Fatalf("CleanLines is not idempotent: %q → %q → %q", s, lines, again)
		}
		if line := text.EscapeLine(s); strings.ContainsAny(line, "\n\t") || strings.IndexFunc(line, bad) >= 0 {
			t.Fatalf("EscapeLine(%q) = %q: a control, bidi character or line break", s, line)
		}
		if i := strings.IndexFunc(text.Escape(s), bad); i >= 0 {
			t.Fatalf("Escape(%q) = %q: a control or bidi character at %d", s, text.Escape(s), i)
		}
	})
}

func TestQuote(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"push", `"push"`},
		{"red\x1b[31m\"x\"", `"red\"x\""`},
		{strings.Repeat("é", 10), `"éé…"`},
	} {
		if got := text.Quote(tt.in, 7); got != tt.want {
			t.Errorf("Quote(%q, 7) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
