package logscan

import (
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/incidentd/incidentd/shared/text"
)

// Line is what Classify found in one log message.
type Line struct {
	// Error is true when the line reports an error.
	Error bool
	// Reason says which rule decided, for logs and tests (e.g. "level ERROR",
	// "HTTP 503", "traceback").
	Reason string
	// Message is the part of the line that identifies the error, the input of
	// Fingerprint: a JSON line's message and error fields, a text line itself.
	Message string
	// Status is the 5xx status of an access-log line, 0 otherwise; all lines of
	// one status share a fingerprint, whatever their path.
	Status int
}

// maxLine bounds the part of a message that is classified and fingerprinted;
// CloudWatch allows 256 KiB per event, and the signal is in the first lines.
const maxLine = 16 << 10

// Level names, upper case. A level field or token with one of errorLevels makes
// a line an error; one of quietLevels makes it not one (whatever words follow),
// unless it is an access-log line with a 5xx status.
var (
	errorLevels = map[string]bool{
		"ERROR": true, "ERR": true, "FATAL": true, "CRITICAL": true, "CRIT": true,
		"PANIC": true, "ALERT": true, "EMERG": true, "EMERGENCY": true, "SEVERE": true,
		"FAIL": true, // ASP.NET Core console logger ("fail: ...")
	}
	quietLevels = map[string]bool{
		"TRACE": true, "TRCE": true, "DEBUG": true, "DBUG": true, "INFO": true, "INFORMATION": true,
		"NOTICE": true, "WARN": true, "WARNING": true, "VERBOSE": true, "FINE": true,
		"FINER": true, "FINEST": true, "CONFIG": true,
	}
)

// levelKind is what a level value says.
type levelKind int

const (
	levelNone  levelKind = iota // no level, or one we do not know
	levelQuiet                  // trace … warning
	levelError                  // error and above
)

func levelOfName(s string) levelKind {
	s = strings.ToUpper(strings.TrimSpace(s))
	switch {
	case errorLevels[s]:
		return levelError
	case quietLevels[s]:
		return levelQuiet
	}
	return levelNone
}

// Classify decides whether one log message reports an error.
//
// A message that is a JSON object is read by its fields:
//   - a level field (level, severity, lvl, log.level, levelname, loglevel,
//     log_level, @l, @level; keys in any case, log.level also nested) decides:
//     ERROR, ERR, FATAL, CRITICAL, CRIT, PANIC, ALERT, EMERG(ENCY), SEVERE in any
//     case, or a number >= 50 (pino, bunyan; also Cloud Logging's 500+), are
//     errors; TRACE … WARNING are not; OpenTelemetry's severity_number >= 17 is;
//   - an HTTP status of 500-599 (status, statusCode, status_code, http_status,
//     http.response.status_code, res.statusCode, …) is an error unless the level
//     is DEBUG/TRACE or WARN: access logs are written at INFO, and a 5xx there
//     is the service failing;
//   - Lambda's platform records (JSON log format) with status error, failure or
//     timeout are errors;
//   - without a level, a non-empty errorType, exception, exc_info, err or error
//     field is an error (Lambda's uncaught-error record has no level); else the
//     text rules below apply to its message field.
//
// Only the first 16 KiB of a message are read; a longer JSON line is read as
// text (whose level= rule also finds "level":"error").
//
// Any other message is text:
//   - a level decides as above: level=/lvl=/severity= pairs (logfmt, slog), or
//     an upper-case level word among the first six fields ("ERROR", "[ERROR]",
//     "ERROR:root:", Lambda's "<time>\t<request id>\tERROR\t"), a bracketed one
//     in any case ("[error]" of nginx), "fail:"/"crit:" of ASP.NET, klog's
//     "E0102 15:04:05" prefix;
//   - a level word is a word of its own: not part of an identifier joined by
//     "_" (ERROR_CODE, SHOW_ERROR_PAGE, NO_ERROR), not a key before "="
//     (ERROR=0, a counter), not inside a quoted phrase ('Report ERROR', a UI
//     label); a quoted single word ({"status":"ERROR"}) still counts;
//   - without one, markers make an error: an upper-case ERROR, FATAL, CRITICAL,
//     PANIC, EMERG or SEVERE word (a word as above), "panic:", "Traceback
//     (most recent call last)", a word ending in "Exception", "SomethingError: "
//     (Python, Node), "error:"/"fatal:" at the start, Lambda's "Task timed out
//     after" and "Runtime exited with error";
//   - a 5xx status in an access-log shape is an error: `"GET /x HTTP/1.1" 503 `
//     (common/combined log format), an ALB log with elb_status_code 5xx,
//     status=502, status_code: 500, "status":500.
//
// So "0 errors", "error_count=0", "ERRORS=0", "ERROR_COUNT=0" and "INFO … no
// error" are not errors: lower-case "error" words alone never count, and a
// quiet level wins over words.
func Classify(msg string) Line {
	msg = clipLine(msg)
	trimmed := strings.TrimSpace(msg)
	if strings.HasPrefix(trimmed, "{") {
		if obj, ok := parseObject(trimmed); ok {
			return classifyJSON(obj, trimmed)
		}
	}
	return classifyText(msg)
}

// clipLine is a log line as the scanner reads it: its first maxLine bytes
// (never half a character), invalid UTF-8 then replaced by U+FFFD.
func clipLine(s string) string {
	return strings.ToValidUTF8(text.Clip(s, maxLine, "", text.Bytes), "\uFFFD")
}

// parseObject decodes s as one JSON object, numbers kept as json.Number.
func parseObject(s string) (map[string]any, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, false
	}
	if dec.More() {
		return nil, false
	}
	return obj, true
}

// Field names, in order of preference.
var (
	levelKeys   = []string{"level", "severity", "lvl", "log.level", "levelname", "loglevel", "log_level", "@l", "@level"}
	otelKeys    = []string{"severity_number", "severityNumber"}
	statusKeys  = []string{"status", "statusCode", "status_code", "httpStatus", "http_status", "http.status_code", "http.response.status_code", "res.statusCode", "response.status", "response.statusCode", "elb_status_code"}
	messageKeys = []string{"message", "msg", "@message", "@mt", "@m", "errorMessage", "error_message", "event", "text", "log"}
	typeKeys    = []string{"errorType", "error_type", "error.type", "exception.type"}
	errorKeys   = []string{"error", "err", "exception", "exc_info", "@x", "error.message", "exception.message", "error.stack_trace"}
)

// decide applies the rules JSON and text lines share, in order: an error
// level, then a 5xx status (unless the level discounts it), then a quiet level.
// It reports whether one of them decided.
func (l *Line) decide(level levelKind, levelText string, status int) bool {
	switch {
	case level == levelError:
		l.Error, l.Reason = true, "level "+levelText
	case status != 0 && !ignores5xx(levelText):
		l.Error, l.Reason, l.Status = true, "HTTP "+strconv.Itoa(status), status
	case level == levelQuiet:
		l.Reason = "level " + levelText
	default:
		return false
	}
	return true
}

func classifyJSON(obj map[string]any, raw string) Line {
	line := Line{Message: jsonMessage(obj)}
	level, levelText := jsonLevel(obj)
	switch {
	case line.decide(level, levelText, jsonStatus(obj)):
	case lambdaPlatformFailure(obj) != "":
		line.Error, line.Reason, line.Message = true, "lambda failure", lambdaPlatformFailure(obj)
	case hasErrorField(obj):
		line.Error, line.Reason = true, "error field"
	default:
		// No level: judge the message (or the whole line) as text.
		text := line.Message
		if text == "" {
			text = raw
		}
		t := classifyText(text)
		line.Error, line.Reason, line.Status = t.Error, t.Reason, t.Status
	}
	if line.Message == "" {
		line.Message = scalarFields(obj)
	}
	if line.Message == "" {
		line.Message = raw
	}
	return line
}

// scalarFields writes a JSON line without a message as its top-level scalar
// fields, "key=value" sorted by key, so that its fingerprint keeps the values
// (quoted JSON strings would all become <str>).
func scalarFields(obj map[string]any) string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		var v string
		switch x := obj[k].(type) {
		case string:
			v = x
		case json.Number:
			v = x.String()
		case bool:
			v = strconv.FormatBool(x)
		default:
			continue
		}
		parts = append(parts, k+"="+strings.ReplaceAll(v, "\n", " "))
		if len(parts) == 20 {
			break
		}
	}
	return strings.Join(parts, " ")
}

// ignores5xx reports whether a 5xx status at this level does not count: a
// debug, trace or warning line mentioning a 5xx is usually a client retrying
// someone else's failure, not this service answering one. Access logs are
// written at INFO (or with no level), so those count.
func ignores5xx(levelText string) bool {
	switch strings.ToUpper(levelText) {
	case "TRACE", "TRCE", "DEBUG", "DBUG", "WARN", "WARNING", "VERBOSE", "FINE", "FINER", "FINEST":
		return true
	}
	return false
}

// lambdaPlatformFailure describes a failed invocation reported by Lambda's own
// record in JSON log format ({"type":"platform.report","record":{"status":
// "timeout"}}), or returns "".
func lambdaPlatformFailure(obj map[string]any) string {
	typ, _ := obj["type"].(string)
	rec, _ := obj["record"].(map[string]any)
	if !strings.HasPrefix(typ, "platform.") || rec == nil {
		return ""
	}
	status, _ := rec["status"].(string)
	switch status {
	case "error", "failure", "timeout":
	default:
		return ""
	}
	msg := "Lambda invocation " + status
	if et, _ := rec["errorType"].(string); et != "" {
		msg += ": " + et
	}
	return msg
}

// hasErrorField reports whether a JSON line without a level carries an error:
// a non-empty errorType, exception, exc_info, err or error field (Lambda's
// uncaught-error record {"errorType","errorMessage","stack"} has no level).
func hasErrorField(obj map[string]any) bool {
	for _, k := range []string{"errorType", "error_type", "exception", "exc_info", "err", "error", "@x"} {
		switch v := obj[k].(type) {
		case string:
			if strings.TrimSpace(v) != "" {
				return true
			}
		case map[string]any:
			if len(v) > 0 {
				return true
			}
		}
	}
	return false
}

// lookup finds a field by a dotted name: the key itself in any case (ECS writes
// "log.level" flat), else the nested path ({"log":{"level":…}}).
func lookup(obj map[string]any, name string) (any, bool) {
	if v, ok := obj[name]; ok {
		return v, true
	}
	var folded []string
	for k := range obj {
		if strings.EqualFold(k, name) {
			folded = append(folded, k)
		}
	}
	if len(folded) > 0 {
		sort.Strings(folded) // deterministic when a line has both "Level" and "LEVEL"
		return obj[folded[0]], true
	}
	head, rest, ok := strings.Cut(name, ".")
	if !ok {
		return nil, false
	}
	inner, ok := obj[head].(map[string]any)
	if !ok {
		return nil, false
	}
	return lookup(inner, rest)
}

func jsonLevel(obj map[string]any) (levelKind, string) {
	for _, k := range levelKeys {
		v, ok := lookup(obj, k)
		if !ok {
			continue
		}
		switch v := v.(type) {
		case string:
			if kind := levelOfName(v); kind != levelNone {
				return kind, strings.ToUpper(strings.TrimSpace(v))
			}
			if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return numericLevel(n), strings.TrimSpace(v)
			}
		case json.Number:
			if n, err := v.Float64(); err == nil {
				return numericLevel(n), v.String()
			}
		}
	}
	for _, k := range otelKeys {
		if v, ok := lookup(obj, k); ok {
			if n, ok := number(v); ok {
				if n >= 17 {
					return levelError, "severity_number " + strconv.Itoa(n)
				}
				return levelQuiet, "severity_number " + strconv.Itoa(n)
			}
		}
	}
	return levelNone, ""
}

// numericLevel reads pino and bunyan levels (10 trace … 50 error, 60 fatal);
// Cloud Logging's numeric severities (500 ERROR) land on the same side.
func numericLevel(n float64) levelKind {
	if n >= 50 {
		return levelError
	}
	return levelQuiet
}

func number(v any) (int, bool) {
	switch v := v.(type) {
	case json.Number:
		n, err := strconv.Atoi(v.String())
		return n, err == nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		return n, err == nil
	}
	return 0, false
}

func jsonStatus(obj map[string]any) int {
	for _, k := range statusKeys {
		if v, ok := lookup(obj, k); ok {
			if n, ok := number(v); ok && n >= 500 && n <= 599 {
				return n
			}
		}
	}
	return 0
}

// jsonMessage builds the identifying text of a JSON line: "<error type>:
// <message>: <error>", from whichever of these fields it has; an error given as
// a multi-line stack trace contributes its telling line.
func jsonMessage(obj map[string]any) string {
	var typ, msg string
	for _, k := range typeKeys {
		// Flat keys only: a nested error object's type is read with its message below.
		if v, ok := obj[k]; ok {
			if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
				typ = strings.TrimSpace(s)
				break
			}
		}
	}
	for _, k := range messageKeys {
		if v, ok := lookup(obj, k); ok {
			if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
				msg = tellingLine(s)
				break
			}
		}
	}
	head := strings.Join(nonEmpty(typ, msg), ": ")
	parts := nonEmpty(head)
	for _, k := range errorKeys {
		v, ok := lookup(obj, k)
		if !ok {
			continue
		}
		var s string
		switch v := v.(type) {
		case string:
			s = tellingLine(v)
		case map[string]any:
			// pino's err, ECS's error: {type|name, message}
			var t, text string
			for _, tk := range []string{"type", "name", "kind", "class"} {
				if x, ok := v[tk].(string); ok && x != "" {
					t = x
					break
				}
			}
			if m, ok := v["message"].(string); ok {
				text = tellingLine(m)
			}
			s = strings.Join(nonEmpty(t, text), ": ")
		}
		if s = strings.TrimSpace(s); s != "" && !strings.Contains(strings.Join(parts, ": "), s) {
			parts = append(parts, s)
		}
		if len(parts) >= 3 {
			break
		}
	}
	return strings.Join(parts, ": ")
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// tellingLine picks the line of a multi-line message that names the error: the
// last line of a Python traceback ("ValueError: …"), else the first line.
func tellingLine(s string) string {
	s = strings.TrimSpace(s)
	first, _, multi := strings.Cut(s, "\n")
	if !multi {
		return s
	}
	if strings.HasPrefix(strings.TrimSpace(first), "Traceback (most recent call last)") {
		lines := strings.Split(s, "\n")
		for i := len(lines) - 1; i > 0; i-- {
			if l := strings.TrimSpace(lines[i]); l != "" {
				return l
			}
		}
	}
	return strings.TrimSpace(first)
}

var (
	// logfmtLevel finds level=error, lvl="warn", severity: ERROR, "level":"info"
	// (JSON after a text prefix).
	logfmtLevel = regexp.MustCompile(`(?i)(?:^|[\s,{;|])"?(?:level|lvl|severity|loglevel|log_level|log\.level|levelname)"?\s*[=:]\s*"?([a-z]+)\b`)
	// klogPrefix is glog/klog's "E0102 15:04:05.000000 ..." (I, W, E, F).
	klogPrefix = regexp.MustCompile(`^([IWEF])\d{4} \d\d:\d\d:\d\d`)
	// dotnetPrefix is ASP.NET Core's console format "fail: Category[0]".
	dotnetPrefix = regexp.MustCompile(`^(trce|dbug|info|warn|fail|crit):\s`)
	// levelToken is a level word candidate: letters, digits and "_", so that
	// ERROR_CODE and NO_ERROR are one word, and the "=" that follows a key, so
	// that ERROR=0 is not all letters either.
	levelToken = regexp.MustCompile(`[A-Za-z0-9_]+=?`)

	// errorWord is an upper-case error word that stands alone: not part of an
	// identifier joined by "_" (\b does not break there), not a key before "=".
	errorWord     = regexp.MustCompile(`\b(ERROR|FATAL|CRITICAL|PANIC|EMERG|SEVERE)\b(?:[^=]|$)`)
	panicMarker   = regexp.MustCompile(`\bpanic: `)
	exceptionWord = regexp.MustCompile(`\b\w*Exception\b`)
	errorClass    = regexp.MustCompile(`\b(?:[A-Z]\w*)?Error: `)
	errorPrefix   = regexp.MustCompile(`(?i)^\s*(?:error|fatal)(?:\[[^\]]*\])?:`)
	lambdaFailure = regexp.MustCompile(`Task timed out after|Runtime exited with error|Runtime\.ExitError|Process exited before completing request`)

	// Access-log shapes with a 5xx status.
	clfStatus = regexp.MustCompile(`"[A-Z]{3,8} [^"]* HTTP/\d(?:\.\d)?" (5\d\d)(?:\s|$)`)
	albStatus = regexp.MustCompile(`^(?:http|https|h2|grpcs|ws|wss) (?:\S+ ){7}(5\d\d) `)
	kvStatus  = regexp.MustCompile(`(?i)(?:^|[\s,{(;|])"?(?:status|status_?code|http_?status|http\.status_code|http\.response\.status_code|response_?status|elb_status_code)"?\s*[=:]\s*"?(5\d\d)\b`)
)

func classifyText(msg string) Line {
	line := Line{Message: msg}
	level, levelText := textLevel(msg)
	if !line.decide(level, levelText, textStatus(msg)) {
		line.Reason = textMarker(msg)
		line.Error = line.Reason != ""
	}
	if line.Error {
		line.Message = withEmbeddedJSON(msg)
	}
	return line
}

// withEmbeddedJSON replaces a JSON object that ends a text line (Node.js on
// Lambda: "<time>\t<request id>\tERROR\tInvoke Error \t{"errorType":…}") by its
// message and error fields, so that the fingerprint keeps what the error says.
func withEmbeddedJSON(msg string) string {
	first := firstLine(msg)
	i := strings.IndexByte(first, '{')
	if i < 0 {
		return msg
	}
	obj, ok := parseObject(msg[i:])
	if !ok {
		return msg
	}
	inner := jsonMessage(obj)
	if inner == "" {
		return msg
	}
	return strings.TrimSpace(msg[:i]) + " " + inner
}

// textLevel finds a text line's level, if it states one.
func textLevel(msg string) (levelKind, string) {
	if m := logfmtLevel.FindStringSubmatch(msg); m != nil {
		if kind := levelOfName(m[1]); kind != levelNone {
			return kind, strings.ToUpper(m[1])
		}
	}
	if m := klogPrefix.FindStringSubmatch(msg); m != nil {
		name := map[string]string{"I": "INFO", "W": "WARNING", "E": "ERROR", "F": "FATAL"}[m[1]]
		return levelOfName(name), name
	}
	if m := dotnetPrefix.FindStringSubmatch(msg); m != nil {
		name := strings.ToUpper(m[1])
		return levelOfName(name), name
	}
	fields := strings.Fields(unquoted(firstLine(msg)))
	if len(fields) > 6 {
		fields = fields[:6]
	}
	for _, f := range fields {
		bracketed := strings.HasPrefix(f, "[") || strings.HasPrefix(f, "<")
		for _, tok := range levelToken.FindAllString(f, 4) {
			if !isLetters(tok) || !bracketed && tok != strings.ToUpper(tok) {
				continue // ERROR_CODE, ERROR=, a lower-case word outside brackets
			}
			if kind := levelOfName(tok); kind != levelNone {
				return kind, strings.ToUpper(tok)
			}
		}
	}
	return levelNone, ""
}

// unquoted blanks the quoted phrases of s: quoted text with a space in it
// ('Report ERROR', a button's label, a message being quoted) is something
// written, not the line's level. A quoted single word stays: it is a value,
// and {"status":"ERROR"} still reads as an error.
func unquoted(s string) string {
	blank := func(q string) string {
		if !strings.ContainsAny(q, " \t") {
			return q
		}
		i := strings.IndexAny(q, `"'`)
		return q[:i+1] + q[len(q)-1:] // keep what precedes the quote, and the quotes
	}
	s = doubleQuoted.ReplaceAllStringFunc(s, blank)
	return singleQuoted.ReplaceAllStringFunc(s, blank)
}

func isLetters(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return s != ""
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// textMarker returns why a text line without a level is an error, or "".
func textMarker(msg string) string {
	word := errorWord.FindStringSubmatch(unquoted(msg))
	switch {
	case strings.Contains(msg, "Traceback (most recent call last)"):
		return "traceback"
	case panicMarker.MatchString(msg):
		return "panic"
	case lambdaFailure.MatchString(msg):
		return "lambda failure"
	case word != nil:
		return "word " + word[1]
	case exceptionWord.MatchString(msg):
		return "exception"
	case errorClass.MatchString(msg), errorPrefix.MatchString(msg):
		return "error class"
	}
	return ""
}

func textStatus(msg string) int {
	for _, re := range []*regexp.Regexp{clfStatus, albStatus, kvStatus} {
		if m := re.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	return 0
}
