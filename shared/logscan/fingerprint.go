package logscan

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/incidentd/incidentd/shared/text"
)

// maxTemplate bounds the readable template kept with a fingerprint.
const maxTemplate = 200

// maxFingerprinted bounds the text that is normalized; the start of an error
// message is what tells errors apart.
const maxFingerprinted = 2048

// Fingerprint groups error lines that are "the same error": it normalizes the
// line's message and hashes it. It returns the key (the first 16 hex digits of
// the SHA-256 of the normalized text) and a readable template (the normalized
// text, at most 200 bytes).
//
// The message's telling line is used: its first line, or the last line of a
// Python traceback. Then, in this order:
//   - quoted strings ("…", and '…' after a space or punctuation) → <str>
//   - UUIDs → <uuid>
//   - timestamps (ISO 8601 and "2006-01-02 15:04:05,000", times, common log
//     format, syslog) → <ts>
//   - e-mail addresses → <email>; URL query strings → ?<query>
//   - IPv4 addresses (with port) and full IPv6 addresses → <ip>
//   - 0x… → <hex>
//   - a number with a unit (3001ms, 1.5GB) → <n> and its unit: "after <n>ms"
//   - any other word with a digit in it (letters, digits, "_", "-", and "."
//     between digits) is a value → <n>: numbers (17, 12.50, -1, 1.2.3) and ids
//     (ord_8f7a6b, ord_123456, i-0abc123, 8f7a6b3c9d, user42), so /orders/123 →
//     /orders/<n>. Ids and numbers share the placeholder so that one error
//     logged with order 17 and with order ord_8f7a6b is one fingerprint. A
//     word shorter than 6 characters without "_" or "-" keeps its letters
//     (s3 → s<n>, ec2 → ec<n>, v2 → v<n>): such words are names more often
//     than ids, so an id of that shape (ab12) splits from longer ones, as do
//     ids without a digit (ord_abcdef stays as it is) and ids in another
//     placeholder's shape (a UUID, an e-mail address).
//   - whitespace collapsed; leading placeholders, level words and separators
//     (the timestamp, request id and level of a log prefix) dropped.
//
// An access-log line (Line.Status set) fingerprints as "HTTP <status>
// responses": a failing service answers 5xx on many paths, and splitting them
// by path would keep each below the threshold.
func Fingerprint(l Line) (key, template string) {
	norm := normalize(l.Message)
	if l.Status != 0 {
		norm = "HTTP " + strconv.Itoa(l.Status) + " responses"
	}
	if norm == "" {
		norm = "(empty message)"
	}
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:8]), text.Clip(norm, maxTemplate, "…", text.Bytes|text.MarkExtra|text.TrimSpace)
}

var (
	doubleQuoted = regexp.MustCompile(`"(?:[^"\\\n]|\\.)*"`)
	singleQuoted = regexp.MustCompile(`(^|[\s(\[{=:,])'[^'\n]*'`)
	uuidRe       = regexp.MustCompile(`\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`)
	timestampRes = []*regexp.Regexp{
		regexp.MustCompile(`\b\d{4}[-/]\d{2}[-/]\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2}|\b))?`),
		regexp.MustCompile(`\b\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}(?: [+-]\d{4})?`),
		regexp.MustCompile(`\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d{2}:\d{2}:\d{2}\b`),
		regexp.MustCompile(`\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?`),
	}
	emailRe  = regexp.MustCompile(`\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b`)
	queryRe  = regexp.MustCompile(`([\w/.-])\?[^\s"'<>]*`)
	ipv4Re   = regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b`)
	ipv6Re   = regexp.MustCompile(`\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b`)
	hex0xRe  = regexp.MustCompile(`\b0[xX][0-9a-fA-F]+\b`)
	wordRe   = regexp.MustCompile(`[\p{L}\p{N}_-]*\d(?:[\p{L}\p{N}_-]|\.\d)*`)
	numberRe = regexp.MustCompile(`\d+(?:\.\d+)*`)
	withUnit = regexp.MustCompile(`^\d+(?:\.\d+)?[A-Za-z]{1,3}$`)
	spaceRe  = regexp.MustCompile(`\s+`)
)

// normalize turns a message into its template.
func normalize(msg string) string {
	s := clipLine(msg)
	s = tellingLine(s)
	if len(s) > maxFingerprinted {
		s = text.Clip(s, maxFingerprinted, "…", text.Bytes|text.MarkExtra|text.TrimSpace)
	}
	s = doubleQuoted.ReplaceAllString(s, "<str>")
	s = singleQuoted.ReplaceAllString(s, "$1<str>")
	s = uuidRe.ReplaceAllString(s, "<uuid>")
	for _, re := range timestampRes {
		s = re.ReplaceAllString(s, "<ts>")
	}
	s = emailRe.ReplaceAllString(s, "<email>")
	s = queryRe.ReplaceAllString(s, "$1?<query>")
	s = ipv4Re.ReplaceAllString(s, "<ip>")
	s = ipv6Re.ReplaceAllString(s, "<ip>")
	s = hex0xRe.ReplaceAllString(s, "<hex>")
	s = wordRe.ReplaceAllStringFunc(s, value)
	s = strings.TrimSpace(spaceRe.ReplaceAllString(s, " "))
	return dropPrefix(s)
}

// value replaces a word with a digit in it (see Fingerprint).
func value(w string) string {
	switch {
	case withUnit.MatchString(w):
		return numberRe.ReplaceAllString(w, "<n>") // 3001ms, 1.5GB
	case utf8.RuneCountInString(w) < 6 && !strings.ContainsAny(w, "_-") && strings.IndexFunc(w, unicode.IsLetter) >= 0:
		return numberRe.ReplaceAllString(w, "<n>") // s3, ec2
	}
	return "<n>"
}

// dropPrefix removes what a log prefix leaves at the start of a template: the
// placeholders of its timestamp and request id, its level, separators.
func dropPrefix(s string) string {
	rest := s
	for rest != "" {
		tok, after, _ := strings.Cut(rest, " ")
		if !prefixToken(tok) {
			break
		}
		rest = after
	}
	if rest == "" {
		return s // nothing but a prefix: keep it, it is all there is
	}
	return rest
}

func prefixToken(tok string) bool {
	t := strings.Trim(tok, "[]()<>:|,;-=")
	switch {
	case t == "":
		return true // a separator such as "-" or "|"
	case tok == "<ts>" || tok == "<uuid>" || tok == "<n>" || tok == "<hex>" || tok == "<ip>":
		return true
	case strings.Trim(tok, "[]:") == "<ts>" || strings.Trim(tok, "[]:") == "<n>":
		return true
	case len(tok) == 4 && strings.Contains("IWEF", tok[:1]) && tok[1:] == "<n>":
		return true // klog's "E0102"
	}
	bracketed := strings.HasPrefix(tok, "[") || strings.HasPrefix(tok, "<")
	return levelOfName(t) != levelNone && (t == strings.ToUpper(t) || bracketed)
}
