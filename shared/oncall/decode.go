package oncall

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"time"
)

// ParseSchedule reads a schedule document strictly (one JSON object, known
// fields only) and validates it. Every failure is an *Error (errkind.Invalid).
func ParseSchedule(data []byte) (*Schedule, error) {
	var s Schedule
	if err := decodeStrict(data, &s); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// ParsePolicy reads a policy document strictly and validates it. Every failure
// is an *Error (errkind.Invalid).
func ParsePolicy(data []byte) (*Policy, error) {
	var p Policy
	if err := decodeStrict(data, &p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func decodeStrict(data []byte, dst any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return invalid("", "the document must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalid(te.Field, "must be %s, got a JSON %s", jsonKind(te.Type), te.Value)
		}
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return invalid("", "times are RFC 3339 (e.g. \"2026-11-02T09:00:00+01:00\"), got %q", pe.Value)
		}
		return invalid("", "the document is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("", "unexpected data after the JSON object")
	}
	return nil
}

// jsonKind names what a Go type reads from JSON, for error messages.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "an RFC 3339 time string"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
		return "a whole number"
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
