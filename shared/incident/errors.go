package incident

import (
	"errors"
	"fmt"
)

// Error kinds. Callers test them with errors.Is; exactly one place (the HTTP API)
// maps them to statuses.
var (
	// ErrNotFound: the incident, service or record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the input breaks a rule; the message says which.
	ErrInvalid = errors.New("invalid")
	// ErrConflict: the request cannot apply to the current state (e.g. acknowledging
	// a resolved incident), or a store write lost an optimistic-locking race.
	ErrConflict = errors.New("conflict")
	// ErrDuplicate: a delivered event was already applied (store only).
	ErrDuplicate = errors.New("duplicate delivery")
)

// Error is an error of one kind with a message meant for the person who sent the
// request.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

// Invalidf returns an ErrInvalid error with a formatted message.
func Invalidf(format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Message: fmt.Sprintf(format, args...)}
}

// Conflictf returns an ErrConflict error with a formatted message.
func Conflictf(format string, args ...any) error {
	return &Error{Kind: ErrConflict, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf returns an ErrNotFound error with a formatted message.
func NotFoundf(format string, args ...any) error {
	return &Error{Kind: ErrNotFound, Message: fmt.Sprintf(format, args...)}
}
