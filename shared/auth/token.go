// Package auth holds the API's bearer tokens: how they are made, parsed, hashed
// and checked, and the scopes they grant. It knows no AWS and no HTTP; the store
// it needs is the Store interface.
//
// A token reads ink_<id>_<secret>. The id (16 characters) is the record's key,
// so a presented token is found with one primary-key read; the secret (52
// characters, 256 random bits) is never stored, only its SHA-256 hash, which is
// compared in constant time. A fast hash is enough: the secret is random, not a
// password, so there is nothing to brute-force from a leaked hash.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Prefix starts every token, so that secret scanners and people recognise one.
const Prefix = "ink_"

const (
	idBytes     = 10 // 80 bits: ids need to be unique, not secret
	secretBytes = 32 // 256 bits from crypto/rand
	// idLen and secretLen are the encoded lengths (base 32, no padding).
	idLen     = 16
	secretLen = 52
	// TokenLen is the length of a token string.
	TokenLen = len(Prefix) + idLen + 1 + secretLen
)

// encoding is Crockford's base 32 alphabet, lower-cased, unpadded: tokens are
// URL- and shell-safe and carry no '_' of their own, which separates the parts.
var encoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// Scope is a permission a token grants.
type Scope string

// Scopes. Admin grants every other scope.
const (
	ScopeReportsWrite   Scope = "reports:write"
	ScopeIncidentsRead  Scope = "incidents:read"
	ScopeIncidentsWrite Scope = "incidents:write"
	ScopeServicesRead   Scope = "services:read"
	ScopeServicesWrite  Scope = "services:write"
	ScopeOnCallRead     Scope = "oncall:read"
	ScopeOnCallWrite    Scope = "oncall:write"
	// ScopeDeploymentsWrite posts deployment records (a CI pipeline's token).
	ScopeDeploymentsWrite Scope = "deployments:write"
	ScopeAdmin            Scope = "admin"
)

// Scopes lists every scope, in the order the CLI prints them.
var Scopes = []Scope{ScopeReportsWrite, ScopeIncidentsRead, ScopeIncidentsWrite, ScopeServicesRead, ScopeServicesWrite,
	ScopeOnCallRead, ScopeOnCallWrite, ScopeDeploymentsWrite, ScopeAdmin}

// ParseScopes reads a comma-separated list of scopes ("reports:write,incidents:read").
// Duplicates are dropped; an unknown scope or an empty list is an error.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for part := range strings.SplitSeq(s, ",") {
		sc := Scope(strings.TrimSpace(part))
		if sc == "" {
			continue
		}
		if !slices.Contains(Scopes, sc) {
			return nil, fmt.Errorf("scope %q is not one of %s", sc, JoinScopes(Scopes))
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no scope given")
	}
	return out, nil
}

// JoinScopes writes scopes comma-separated, as ParseScopes reads them (and the
// token CLI's --scopes takes them), so a printed list can be pasted back.
func JoinScopes(ss []Scope) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// Token is a stored token: everything but its secret.
type Token struct {
	ID     string
	Name   string
	Scopes []Scope
	// Hash is the SHA-256 of the secret.
	Hash      []byte
	CreatedAt time.Time
	// ExpiresAt, when not zero, is when the token stops working.
	ExpiresAt time.Time
	Revoked   bool
	RevokedAt time.Time
}

// Allows reports whether the token grants scope s.
func (t Token) Allows(s Scope) bool {
	return slices.Contains(t.Scopes, s) || slices.Contains(t.Scopes, ScopeAdmin)
}

// Active reports whether the token may be used at now: not revoked, not expired.
func (t Token) Active(now time.Time) bool {
	return !t.Revoked && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// Verify reports whether secret is the token's secret, in constant time.
func (t Token) Verify(secret string) bool {
	h := Hash(secret)
	return len(t.Hash) == len(h) && subtle.ConstantTimeCompare(t.Hash, h) == 1
}

// Hash returns the SHA-256 of a secret, as stored.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Limits on a token's name, which becomes the actor of the timeline entries it writes.
const maxName = 64

// ValidateName checks a token's name: 1-64 printable characters, no spaces at
// either end.
func ValidateName(name string) error {
	if name == "" || len(name) > maxName || strings.TrimSpace(name) != name {
		return fmt.Errorf("token name %q must be 1-%d characters without surrounding spaces", name, maxName)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("token name %q has a control character", name)
		}
	}
	return nil
}

// Generate makes a new token named name with the given scopes, created at now
// and valid for ttl (0: until revoked). It returns the token string, to show
// once, and the record to store.
func Generate(name string, scopes []Scope, now time.Time, ttl time.Duration) (string, Token, error) {
	if err := ValidateName(name); err != nil {
		return "", Token{}, err
	}
	if len(scopes) == 0 {
		return "", Token{}, errors.New("no scope given")
	}
	for _, s := range scopes {
		if !slices.Contains(Scopes, s) {
			return "", Token{}, fmt.Errorf("scope %q is not one of %s", s, JoinScopes(Scopes))
		}
	}
	if ttl < 0 {
		return "", Token{}, fmt.Errorf("ttl %s is negative", ttl)
	}
	var raw [idBytes + secretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", Token{}, fmt.Errorf("read random bytes: %w", err)
	}
	id := encoding.EncodeToString(raw[:idBytes])
	secret := encoding.EncodeToString(raw[idBytes:])
	t := Token{
		ID: id, Name: name, Scopes: slices.Clone(scopes), Hash: Hash(secret),
		CreatedAt: now.UTC().Truncate(time.Second),
	}
	if ttl > 0 {
		t.ExpiresAt = t.CreatedAt.Add(ttl)
	}
	return Prefix + id + "_" + secret, t, nil
}

// ErrMalformed: the string is not a token of this platform.
var ErrMalformed = errors.New("malformed token")

// Parse splits a token string into its id and secret. It checks the shape only;
// whether the token exists and matches is the store's and Verify's business.
func Parse(s string) (id, secret string, err error) {
	if len(s) != TokenLen || !strings.HasPrefix(s, Prefix) {
		return "", "", ErrMalformed
	}
	rest := s[len(Prefix):]
	id, secret = rest[:idLen], rest[idLen+1:]
	if rest[idLen] != '_' || !validPart(id, idBytes) || !validPart(secret, secretBytes) {
		return "", "", ErrMalformed
	}
	return id, secret, nil
}

// ValidID reports whether id could be a token id (the CLI checks --id with it).
func ValidID(id string) bool { return len(id) == idLen && validPart(id, idBytes) }

// validPart reports whether p is the canonical encoding of n bytes: decoding and
// re-encoding gives p back, so one token has exactly one spelling.
func validPart(p string, n int) bool {
	b, err := encoding.DecodeString(p)
	return err == nil && len(b) == n && encoding.EncodeToString(b) == p
}

// LocalDevToken is a fixed, publicly known token for DynamoDB Local only: the
// events/api-*.json fixtures carry it, the tests and `make local` seed it, so
// `curl` and `sam local invoke` work without minting one. Never store it in a
// table in AWS; the CLI does not know it.
const LocalDevToken = "ink_dev0test00000000_devtestsecret000000000000000000000000000000000000000"

// LocalDevRecord returns the record of LocalDevToken (name "dev", scope admin).
func LocalDevRecord(now time.Time) Token {
	id, secret, _ := Parse(LocalDevToken)
	return Token{ID: id, Name: "dev", Scopes: []Scope{ScopeAdmin}, Hash: Hash(secret), CreatedAt: now.UTC().Truncate(time.Second)}
}
