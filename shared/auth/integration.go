package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Integration keys let an alerting tool that speaks PagerDuty's Events API v2
// or Opsgenie's Alert API send to the platform (README "PagerDuty- and
// Opsgenie-compatible ingest"). Each is bound to one service and one kind of
// sender; like API tokens, only the hash of its secret part is stored.
//
// A key is 32 lower-case hex digits (128 random bits), as a PagerDuty
// integration key ("routing key") is; an Opsgenie key is the same 32 digits
// written as a UUID (8-4-4-4-12), as Opsgenie's API keys are. The first 12
// digits are the key's id (the record's key, shown by the CLI), the other 20
// (80 bits) its secret, of which only the SHA-256 is stored. Parsing accepts
// either spelling, in either case.

// IntegrationKind is the protocol an integration key is for.
type IntegrationKind string

// Integration kinds.
const (
	KindPagerDuty IntegrationKind = "pagerduty"
	KindOpsgenie  IntegrationKind = "opsgenie"
)

// ParseIntegrationKind reads "pagerduty" or "opsgenie".
func ParseIntegrationKind(s string) (IntegrationKind, error) {
	switch k := IntegrationKind(strings.ToLower(strings.TrimSpace(s))); k {
	case KindPagerDuty, KindOpsgenie:
		return k, nil
	}
	return "", fmt.Errorf("kind %q is not one of pagerduty, opsgenie", s)
}

const (
	integrationIDLen     = 12
	integrationSecretLen = 20
	integrationKeyLen    = integrationIDLen + integrationSecretLen
)

// IntegrationKey is a stored integration key: everything but its secret.
type IntegrationKey struct {
	ID      string
	Name    string
	Kind    IntegrationKind
	Service string
	// Hash is the SHA-256 of the secret part.
	Hash      []byte
	CreatedAt time.Time
	Revoked   bool
	RevokedAt time.Time
}

// Actor is the key's name in the timeline: "pagerduty:<name>" or
// "opsgenie:<name>".
func (k IntegrationKey) Actor() string { return string(k.Kind) + ":" + k.Name }

// GenerateIntegrationKey makes a new key of kind for service, named name. It
// returns the key string, to show once, and the record to store. The service
// name is checked by the caller (the domain's rule).
func GenerateIntegrationKey(kind IntegrationKind, service, name string, now time.Time) (string, IntegrationKey, error) {
	if _, err := ParseIntegrationKind(string(kind)); err != nil {
		return "", IntegrationKey{}, err
	}
	if service == "" {
		return "", IntegrationKey{}, errors.New("no service given")
	}
	if name == "" {
		name = service
	}
	if err := ValidateName(name); err != nil {
		return "", IntegrationKey{}, err
	}
	var raw [integrationKeyLen / 2]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", IntegrationKey{}, fmt.Errorf("read random bytes: %w", err)
	}
	plain := hex.EncodeToString(raw[:])
	k := IntegrationKey{
		ID: plain[:integrationIDLen], Name: name, Kind: kind, Service: service,
		Hash: Hash(plain[integrationIDLen:]), CreatedAt: now.UTC().Truncate(time.Second),
	}
	if kind == KindOpsgenie {
		plain = plain[:8] + "-" + plain[8:12] + "-" + plain[12:16] + "-" + plain[16:20] + "-" + plain[20:]
	}
	return plain, k, nil
}

// ParseIntegrationKey splits a presented key (32 hex digits, or a UUID) into
// its id and secret.
func ParseIntegrationKey(s string) (id, secret string, err error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' {
		s = strings.ReplaceAll(s, "-", "")
	}
	if len(s) != integrationKeyLen {
		return "", "", ErrMalformed
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", "", ErrMalformed
	}
	return s[:integrationIDLen], s[integrationIDLen:], nil
}

// ValidIntegrationID reports whether id could be an integration key's id.
func ValidIntegrationID(id string) bool {
	_, err := hex.DecodeString(id)
	return len(id) == integrationIDLen && err == nil && strings.ToLower(id) == id
}

// IntegrationReader finds an integration key by id.
type IntegrationReader interface {
	// IntegrationKey returns the key with the id, or ErrNotFound.
	IntegrationKey(ctx context.Context, id string) (IntegrationKey, error)
}

// IntegrationStore keeps integration keys (the token CLI uses all of it).
type IntegrationStore interface {
	IntegrationReader
	// PutIntegrationKey stores a new key; an existing id is an error.
	PutIntegrationKey(ctx context.Context, k IntegrationKey) error
	// IntegrationKeys returns every key, revoked ones included, oldest first.
	IntegrationKeys(ctx context.Context) ([]IntegrationKey, error)
	// RevokeIntegrationKey marks the key revoked at the given time, or returns ErrNotFound.
	RevokeIntegrationKey(ctx context.Context, id string, at time.Time) error
}

// IssueIntegrationKey generates a key, stores it and returns the string to
// show once.
func IssueIntegrationKey(ctx context.Context, s IntegrationStore, kind IntegrationKind, service, name string, now time.Time) (string, IntegrationKey, error) {
	plain, k, err := GenerateIntegrationKey(kind, service, name, now)
	if err != nil {
		return "", IntegrationKey{}, err
	}
	if err := s.PutIntegrationKey(ctx, k); err != nil {
		return "", IntegrationKey{}, fmt.Errorf("store integration key %s: %w", k.ID, err)
	}
	return plain, k, nil
}

// AuthenticateIntegration returns the active key of kind that s is, or an
// error wrapping ErrInvalidToken (malformed, unknown, wrong secret, revoked,
// or a key of the other kind). Any other error is the store's trouble.
func AuthenticateIntegration(ctx context.Context, r IntegrationReader, kind IntegrationKind, s string) (IntegrationKey, error) {
	id, secret, err := ParseIntegrationKey(s)
	if err != nil {
		return IntegrationKey{}, fmt.Errorf("%w: malformed integration key", ErrInvalidToken)
	}
	k, err := r.IntegrationKey(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return IntegrationKey{}, fmt.Errorf("%w: no integration key %s", ErrInvalidToken, id)
	}
	if err != nil {
		return IntegrationKey{}, fmt.Errorf("read integration key %s: %w", id, err)
	}
	switch {
	case !(Token{Hash: k.Hash}).Verify(secret):
		return IntegrationKey{}, fmt.Errorf("%w: wrong secret for integration key %s", ErrInvalidToken, id)
	case k.Revoked:
		return IntegrationKey{}, fmt.Errorf("%w: integration key %s is revoked", ErrInvalidToken, id)
	case k.Kind != kind:
		return IntegrationKey{}, fmt.Errorf("%w: integration key %s is for %s, not %s", ErrInvalidToken, id, k.Kind, kind)
	}
	return k, nil
}

// Fixed, publicly known integration keys for DynamoDB Local only, bound to the
// demo service checkout: the events/ingest-pagerduty-*.json and
// ingest-opsgenie-*.json fixtures carry them, `make local` and the tests seed
// them. Never store them in a table in AWS; the CLI does not know them.
const (
	LocalDevPagerDutyKey = "de700000000100000000000000000001"
	LocalDevOpsgenieKey  = "de700000-0002-0000-0000-000000000002"
	// LocalDevService is the service the local keys are bound to.
	LocalDevService = "checkout"
)

// LocalDevIntegrationKeys returns the records of the two local keys.
func LocalDevIntegrationKeys(now time.Time) []IntegrationKey {
	var out []IntegrationKey
	for _, k := range []struct {
		kind  IntegrationKind
		plain string
	}{{KindPagerDuty, LocalDevPagerDutyKey}, {KindOpsgenie, LocalDevOpsgenieKey}} {
		id, secret, _ := ParseIntegrationKey(k.plain)
		out = append(out, IntegrationKey{ID: id, Name: "dev", Kind: k.kind, Service: LocalDevService, Hash: Hash(secret),
			CreatedAt: now.UTC().Truncate(time.Second)})
	}
	return out
}
