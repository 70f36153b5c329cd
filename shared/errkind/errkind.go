// Package errkind holds the platform's error kinds. Every layer returns them
// (the incident and on-call services, the stores, the adapters), callers test
// them with errors.Is, and exactly one place maps them to HTTP statuses
// (shared/httpapi's errors.go). It imports nothing of the platform, so any
// package may use it.
package errkind

import (
	"errors"
	"fmt"
)

// The kinds.
var (
	// NotFound: the incident, service, user or record does not exist.
	NotFound = errors.New("not found")
	// Invalid: the input breaks a rule; the message says which.
	Invalid = errors.New("invalid")
	// Conflict: the request cannot apply to the current state (e.g.
	// acknowledging a resolved incident), or a store write lost an
	// optimistic-locking race.
	Conflict = errors.New("conflict")
	// Duplicate: a delivered event was already applied (stores only).
	Duplicate = errors.New("duplicate delivery")
	// Unavailable: a dependency the request needs (the store) cannot be
	// reached or keeps throttling after bounded retries. It is transient: the
	// API answers 503 with Retry-After, and an event function fails the
	// invocation or record so that AWS delivers it again.
	Unavailable = errors.New("unavailable")
	// KeyReused: an idempotency key came back with another request than the
	// one it was first used with (the API answers 422).
	KeyReused = errors.New("idempotency key reused")
)

// Error is an error of one kind with a message meant for the person who sent
// the request.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

// Invalidf returns an Invalid error with a formatted message.
func Invalidf(format string, args ...any) error {
	return &Error{Kind: Invalid, Message: fmt.Sprintf(format, args...)}
}

// Conflictf returns a Conflict error with a formatted message.
func Conflictf(format string, args ...any) error {
	return &Error{Kind: Conflict, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf returns a NotFound error with a formatted message.
func NotFoundf(format string, args ...any) error {
	return &Error{Kind: NotFound, Message: fmt.Sprintf(format, args...)}
}

// Unavailablef returns an Unavailable error with a formatted message.
func Unavailablef(format string, args ...any) error {
	return &Error{Kind: Unavailable, Message: fmt.Sprintf(format, args...)}
}
