package text

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean returns s as one line of text fit to store and show: without C0 and C1
// control characters, DEL, terminal escape sequences, or Unicode bidirectional
// controls, and with invalid UTF-8 replaced by U+FFFD. Line breaks and tabs
// become spaces, so that words on either side stay apart. It is for titles,
// names and other one-line text.
//
// What is removed, and why:
//   - an ANSI/ECMA-48 escape sequence as a whole (CSI "ESC [ … final", OSC,
//     DCS, SOS, PM and APC strings up to BEL or ST, and two-character escapes
//     such as "ESC c"): "\x1b[31mdown\x1b[0m" becomes "down", not "[31mdown[0m";
//   - any other C0 control (U+0000–U+001F), DEL (U+007F) and C1 control
//     (U+0080–U+009F; a C1 CSI, U+009B, with its sequence): they move a
//     terminal's cursor, clear its screen or set its title;
//   - the bidi embeddings, overrides and isolates (U+202A–U+202E,
//     U+2066–U+2069) and the marks U+200E, U+200F and U+061C: they make text
//     display in another order than it is stored ("Trojan Source"), so that a
//     title can read differently to a responder than to a search. Right-to-left
//     scripts display correctly without them.
//
// Zero-width joiners (emoji, Indic scripts) and every printable character stay.
func Clean(s string) string { return clean(s, false) }

// CleanLines is Clean for multi-line text (notes, descriptions, timeline
// text): it keeps line feeds and tabs, and turns CR LF, a lone CR and the
// Unicode line and paragraph separators into a line feed.
func CleanLines(s string) string { return clean(s, true) }

func clean(s string, lines bool) string {
	if isClean(s, lines) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
			i += max(size, 1)
			continue
		}
		switch {
		case r == 0x1b: // ESC
			i = skipEscape(s, i+size)
			continue
		case r == 0x9b: // C1 CSI
			i = skipCSI(s, i+size)
			continue
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // C1 DCS, SOS, OSC, PM, APC
			i = skipString(s, i+size)
			continue
		case r == '\r':
			if strings.HasPrefix(s[i+size:], "\n") {
				i += size // the \n that follows is the break
				continue
			}
			b.WriteString(lineBreak(lines))
		case r == '\n' || r == '\u2028' || r == '\u2029':
			b.WriteString(lineBreak(lines))
		case r == '\t':
			if lines {
				b.WriteByte('\t')
			} else {
				b.WriteByte(' ')
			}
		case removed(r):
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func lineBreak(lines bool) string {
	if lines {
		return "\n"
	}
	return " "
}

// removed reports whether r is dropped wherever it is: a control character
// other than the line breaks and tab handled above, or a bidi control.
func removed(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// isClean is the fast path: most text has nothing to remove.
func isClean(s string, lines bool) bool {
	for _, r := range s {
		if r == utf8.RuneError || removed(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
		if (r == '\n' || r == '\t') && !lines {
			return false
		}
	}
	return utf8.ValidString(s)
}

// skipEscape returns the index after the escape sequence whose ESC ended at i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipCSI(s, i+1)
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		return skipString(s, i+1)
	case c >= 0x20 && c <= 0x2f: // intermediates, then a final byte
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	case c >= 0x30 && c <= 0x7e: // a two-character escape (ESC c, ESC 7…)
		return i + 1
	}
	return i // a lone ESC: only it goes
}

// skipCSI returns the index after a control sequence's parameters,
// intermediates and final byte, from i (just after "ESC [" or U+009B).
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x30 && s[i] <= 0x3f {
		i++
	}
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString returns the index after a control string (OSC, DCS…) that ends
// with BEL, ESC \ or U+009C, from i; an unterminated one runs to the end of
// its line, so that a stray OSC does not swallow the rest of a note.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		case s[i] == '\n':
			return i
		}
		i++
	}
	return i
}

// Escape returns s for a terminal: printable text and line feeds as they are,
// and anything else a terminal could act on (controls, bidi controls, invalid
// UTF-8) as a Go escape (\x1b, \u202e…), as strconv.Quote writes it. Tabs,
// and format characters such as zero-width joiners, are kept. Text the platform stored is clean already; Escape is for what a local
// terminal prints, which may come from elsewhere.
func Escape(s string) string { return escape(s, true) }

// EscapeLine is Escape for output that must stay on one line (a log line, a
// PAGE line): line feeds and tabs are escaped too (\n, \t).
func EscapeLine(s string) string { return escape(s, false) }

func escape(s string, lines bool) string {
	printable := func(r rune) bool { return (lines || r != '\n' && r != '\t') && shown(r) }
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !printable(r) }) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
			size = max(size, 1)
		case printable(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r) // 'x' with the escape inside
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// shown reports whether a terminal shows r as text: printable characters,
// line feed and tab, and format characters such as zero-width joiners, but no
// control and no bidi control.
func shown(r rune) bool {
	if r == '\n' || r == '\t' {
		return true
	}
	return !removed(r) && r != utf8.RuneError && (unicode.IsPrint(r) || unicode.Is(unicode.Cf, r))
}

// Quote returns s cleaned (Clean), clipped to max bytes of valid UTF-8 with
// "…", and quoted as a Go string literal: how a value read from outside is
// named in an error message, whatever it holds.
func Quote(s string, max int) string { return strconv.Quote(Clip(Clean(s), max, "…", Valid)) }
