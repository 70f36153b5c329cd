package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrNotFound: no token has the id. Stores return it (wrapped or not).
var ErrNotFound = errors.New("token not found")

// ErrInvalidToken: the presented token is malformed, unknown, wrong, revoked or
// expired. The API answers 401 for all of them alike, so a caller learns
// nothing about which tokens exist.
var ErrInvalidToken = errors.New("invalid token")

// Reader finds a token by id; the Authenticator needs nothing more.
type Reader interface {
	// APIToken returns the token with the id, or ErrNotFound.
	APIToken(ctx context.Context, id string) (Token, error)
}

// Store keeps tokens (the CLI and the local runtime use all of it).
type Store interface {
	Reader
	// PutAPIToken stores a new token; an existing id is an error.
	PutAPIToken(ctx context.Context, t Token) error
	// APITokens returns every token, revoked and expired ones included.
	APITokens(ctx context.Context) ([]Token, error)
	// RevokeAPIToken marks the token revoked at the given time, or returns ErrNotFound.
	RevokeAPIToken(ctx context.Context, id string, at time.Time) error
}

// Issue generates a token, stores it and returns the string to show once.
func Issue(ctx context.Context, s Store, name string, scopes []Scope, ttl time.Duration, now time.Time) (string, Token, error) {
	plain, t, err := Generate(name, scopes, now, ttl)
	if err != nil {
		return "", Token{}, err
	}
	if err := s.PutAPIToken(ctx, t); err != nil {
		return "", Token{}, fmt.Errorf("store token %s: %w", t.ID, err)
	}
	return plain, t, nil
}

// DefaultCacheTTL is how long a Lambda remembers a token it read. A revoked
// token keeps working on a warm instance for at most this long.
const DefaultCacheTTL = 30 * time.Second

// maxCached bounds the cache, so random ids cannot grow it without limit.
const maxCached = 1024

// Authenticator checks presented tokens against the store, remembering what it
// read for a short while to spare the store a read per request. It is safe for
// concurrent use.
type Authenticator struct {
	store Reader
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	tok   Token
	found bool
	until time.Time
}

// Option configures an Authenticator.
type Option func(*Authenticator)

// WithCacheTTL sets how long read tokens are remembered (0 disables the cache).
func WithCacheTTL(d time.Duration) Option { return func(a *Authenticator) { a.ttl = d } }

// WithClock makes the authenticator read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(a *Authenticator) { a.now = now } }

// NewAuthenticator returns an authenticator reading tokens from store.
func NewAuthenticator(store Reader, opts ...Option) *Authenticator {
	a := &Authenticator{store: store, ttl: DefaultCacheTTL, now: time.Now, cache: map[string]cached{}}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Authenticate returns the active token that s is, or an error wrapping
// ErrInvalidToken. Any other error is the store's trouble, not the caller's.
func (a *Authenticator) Authenticate(ctx context.Context, s string) (Token, error) {
	id, secret, err := Parse(s)
	if err != nil {
		return Token{}, fmt.Errorf("%w: malformed", ErrInvalidToken)
	}
	now := a.now()
	t, found, err := a.lookup(ctx, id, now)
	if err != nil {
		return Token{}, err
	}
	switch {
	case !found:
		return Token{}, fmt.Errorf("%w: no token %s", ErrInvalidToken, id)
	case !t.Verify(secret):
		return Token{}, fmt.Errorf("%w: wrong secret for token %s", ErrInvalidToken, id)
	case t.Revoked:
		return Token{}, fmt.Errorf("%w: token %s is revoked", ErrInvalidToken, id)
	case !t.Active(now):
		return Token{}, fmt.Errorf("%w: token %s expired at %s", ErrInvalidToken, id, t.ExpiresAt.Format(time.RFC3339))
	}
	return t, nil
}

func (a *Authenticator) lookup(ctx context.Context, id string, now time.Time) (Token, bool, error) {
	if a.ttl > 0 {
		a.mu.Lock()
		c, ok := a.cache[id]
		a.mu.Unlock()
		if ok && now.Before(c.until) {
			return c.tok, c.found, nil
		}
	}
	t, err := a.store.APIToken(ctx, id)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Token{}, false, fmt.Errorf("read token %s: %w", id, err)
	}
	if a.ttl > 0 {
		a.remember(id, cached{tok: t, found: found, until: now.Add(a.ttl)}, now)
	}
	return t, found, nil
}

func (a *Authenticator) remember(id string, c cached, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) >= maxCached {
		for k, v := range a.cache {
			if !now.Before(v.until) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= maxCached {
			clear(a.cache) // all fresh: a flood of ids; start over rather than grow
		}
	}
	a.cache[id] = c
}
