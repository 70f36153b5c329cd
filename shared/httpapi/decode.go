package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// DefaultMaxBody bounds a request body. The largest legitimate body (a service
// config with 100 alarm names, a 4000-byte note) is far below it.
const DefaultMaxBody = 64 << 10

// decodeOptions say what a route accepts.
type decodeOptions struct {
	// allowEmpty lets the body be absent (transitions whose fields are optional).
	allowEmpty bool
	// maxBody bounds the body instead of the API's MaxBody when larger.
	maxBody int64
}

// decode reads r's JSON body into dst, strictly: an object, known fields only,
// nothing after it. Each failure is a 4xx apiError saying what to fix.
func (a *API) decode(w http.ResponseWriter, r *http.Request, dst any, o decodeOptions) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !isJSON(ct) {
		return newError(http.StatusUnsupportedMediaType, "unsupported_media_type",
			fmt.Sprintf("Content-Type %q is not supported: send application/json", ct))
	}
	body, err := readBody(w, r, max(a.maxBody, o.maxBody))
	if err != nil {
		return err
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		if o.allowEmpty {
			return nil
		}
		return newError(http.StatusBadRequest, "empty_body", "the body is empty: send a JSON object")
	}
	if ct == "" {
		return newError(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"the body has no Content-Type: send application/json")
	}
	if trimmed[0] != '{' {
		return newError(http.StatusBadRequest, "invalid_json", "the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(body, err)
	}
	// One object per request: anything after it but white space is refused, so
	// that a concatenated or half-merged body does not pass for its first part.
	at := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		for at < int64(len(body)) && isSpace(body[at]) {
			at++
		}
		line, col := position(body, at)
		return newError(http.StatusBadRequest, "trailing_data",
			fmt.Sprintf("unexpected data after the JSON object at line %d, column %d", line, col))
	}
	return nil
}

// isJSON accepts application/json and application/*+json (merge-patch), in
// UTF-8 (the only charset JSON has).
func isJSON(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// jsonError turns a decoding error into a 400 that names the field or the
// position at fault.
func jsonError(body []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tp *time.ParseError
	switch {
	case errors.As(err, &syntax):
		line, col := position(body, syntax.Offset-1) // Offset counts the bad byte
		return newError(http.StatusBadRequest, "invalid_json",
			fmt.Sprintf("malformed JSON at line %d, column %d: %s", line, col, strings.TrimPrefix(syntax.Error(), "json: ")))
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := position(body, int64(len(body)))
		return newError(http.StatusBadRequest, "invalid_json",
			fmt.Sprintf("malformed JSON: the body ends early at line %d, column %d", line, col))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return newError(http.StatusBadRequest, "invalid_json", "the body must be a JSON object")
		}
		return newError(http.StatusBadRequest, "invalid_field",
			fmt.Sprintf("field %q must be %s, not %s", typ.Field, jsonKind(typ.Type), typ.Value))
	case errors.As(err, &tp):
		// time.Time's decoder does not say which field; the body does.
		field := "a time"
		if m := regexp.MustCompile(`"([A-Za-z0-9_]+)"\s*:\s*"` + regexp.QuoteMeta(tp.Value) + `"`).FindSubmatch(body); m != nil {
			field = fmt.Sprintf("field %q", m[1])
		}
		return newError(http.StatusBadRequest, "invalid_field",
			fmt.Sprintf("%s must be an RFC 3339 time (e.g. 2026-11-24T09:00:00Z), not %q", field, tp.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no type for this error; its text is stable (Go 1 promise on v1).
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return newError(http.StatusBadRequest, "unknown_field", "unknown field "+name)
	}
	return newError(http.StatusBadRequest, "invalid_json", "the body is not valid JSON")
}

// jsonKind names the JSON value a Go type takes.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// position turns the index of a byte into its 1-based line and column.
func position(body []byte, index int64) (line, col int) {
	index = max(0, min(index, int64(len(body))))
	before := body[:index]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(index) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// readBody reads r's body, at most limit bytes: 413 above it, 400 if it
// cannot be read.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, newError(http.StatusRequestEntityTooLarge, "body_too_large",
				fmt.Sprintf("the body is larger than %d bytes", tooLarge.Limit))
		}
		return nil, newError(http.StatusBadRequest, "unreadable_body", "the body could not be read")
	}
	return body, nil
}
