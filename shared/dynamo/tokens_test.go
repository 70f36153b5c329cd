package dynamo_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
)

func TestTokenRoundTrip(t *testing.T) {
	ctx := context.Background()
	store := dynamotest.Store(t)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

	plain, issued, err := auth.Issue(ctx, store, "ci", []auth.Scope{auth.ScopeReportsWrite, auth.ScopeIncidentsRead}, 24*time.Hour, now)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	got, err := store.APIToken(ctx, issued.ID)
	if err != nil {
		t.Fatalf("APIToken(%s): %v", issued.ID, err)
	}
	if got.Name != "ci" || !slices.Equal(got.Scopes, issued.Scopes) || !got.CreatedAt.Equal(now) ||
		!got.ExpiresAt.Equal(now.Add(24*time.Hour)) || got.Revoked {
		t.Errorf("got %+v, want %+v", got, issued)
	}
	_, secret, _ := auth.Parse(plain)
	if !got.Verify(secret) {
		t.Error("got a stored token that does not verify its secret, want it to")
	}
}

func TestTokenNotFound(t *testing.T) {
	store := dynamotest.Store(t)
	_, err := store.APIToken(context.Background(), "0000000000000000")
	if !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("got %v, want auth.ErrNotFound", err)
	}
	if err := store.RevokeAPIToken(context.Background(), "0000000000000000", time.Now()); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("revoke: got %v, want auth.ErrNotFound", err)
	}
}

func TestPutTokenRefusesATakenID(t *testing.T) {
	ctx := context.Background()
	store := dynamotest.Store(t)
	_, tok, err := auth.Issue(ctx, store, "a", []auth.Scope{auth.ScopeAdmin}, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok.Name = "b"
	if err := store.PutAPIToken(ctx, tok); err == nil {
		t.Error("got a second token stored under the same id, want an error")
	}
	got, _ := store.APIToken(ctx, tok.ID)
	if got.Name != "a" {
		t.Errorf("got name %q, want the first token's %q", got.Name, "a")
	}
}

func TestListAndRevokeTokens(t *testing.T) {
	ctx := context.Background()
	store := dynamotest.Store(t)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	var ids []string
	for i, name := range []string{"alice", "ci", "slack"} {
		_, tok, err := auth.Issue(ctx, store, name, []auth.Scope{auth.ScopeIncidentsRead}, 0, now.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tok.ID)
	}
	if err := store.RevokeAPIToken(ctx, ids[1], now.Add(time.Hour)); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if err := store.RevokeAPIToken(ctx, ids[1], now.Add(2*time.Hour)); err != nil {
		t.Fatalf("revoke again: %v", err)
	}
	list, err := store.APITokens(ctx)
	if err != nil {
		t.Fatalf("APITokens: %v", err)
	}
	var names []string
	for _, tok := range list {
		names = append(names, tok.Name)
	}
	if want := []string{"alice", "ci", "slack"}; !slices.Equal(names, want) {
		t.Fatalf("got tokens %v, want %v (oldest first)", names, want)
	}
	if !list[1].Revoked || !list[1].RevokedAt.Equal(now.Add(time.Hour)) {
		t.Errorf("got ci revoked=%v at %s, want revoked at the first revocation %s", list[1].Revoked, list[1].RevokedAt, now.Add(time.Hour))
	}
	if list[0].Revoked || list[2].Revoked {
		t.Error("got another token revoked too, want only ci")
	}
}

// countingReader counts the reads that reach the real store.
type countingReader struct {
	auth.Reader
	reads atomic.Int64
}

func (c *countingReader) APIToken(ctx context.Context, id string) (auth.Token, error) {
	c.reads.Add(1)
	return c.Reader.APIToken(ctx, id)
}

func TestAuthenticatorOverTheStore(t *testing.T) {
	ctx := context.Background()
	store := dynamotest.Store(t)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	clock := now
	plain, tok, err := auth.Issue(ctx, store, "ci", []auth.Scope{auth.ScopeIncidentsRead}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	reader := &countingReader{Reader: store}
	a := auth.NewAuthenticator(reader, auth.WithClock(func() time.Time { return clock }))

	for range 5 {
		got, err := a.Authenticate(ctx, plain)
		if err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		if got.ID != tok.ID || got.Name != "ci" {
			t.Fatalf("got token %s %q, want %s %q", got.ID, got.Name, tok.ID, "ci")
		}
	}
	if got := reader.reads.Load(); got != 1 {
		t.Errorf("got %d store reads for 5 requests within the cache time, want 1", got)
	}

	// A wrong secret for a cached id is refused without a read.
	i := len(plain) - 5
	c := byte('a')
	if plain[i] == 'a' {
		c = 'b'
	}
	wrong := plain[:i] + string(c) + plain[i+1:]
	if _, err := a.Authenticate(ctx, wrong); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("wrong secret: got %v, want ErrInvalidToken", err)
	}

	// Revocation counts once the cached copy is stale.
	if err := store.RevokeAPIToken(ctx, tok.ID, now); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(auth.DefaultCacheTTL - time.Second)
	if _, err := a.Authenticate(ctx, plain); err != nil {
		t.Errorf("within the cache time after revocation: got %v, want the cached token accepted", err)
	}
	clock = now.Add(auth.DefaultCacheTTL)
	if _, err := a.Authenticate(ctx, plain); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("after the cache time: got %v, want ErrInvalidToken (revoked)", err)
	}
	if got := reader.reads.Load(); got != 2 {
		t.Errorf("got %d store reads, want 2", got)
	}
}

func TestAuthenticatorRefuses(t *testing.T) {
	ctx := context.Background()
	store := dynamotest.Store(t)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	expiring, _, err := auth.Issue(ctx, store, "short", []auth.Scope{auth.ScopeAdmin}, time.Minute, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	unknown, _, _ := auth.Generate("never-stored", []auth.Scope{auth.ScopeAdmin}, now, 0)
	a := auth.NewAuthenticator(store, auth.WithClock(func() time.Time { return now }))
	tests := []struct {
		name string
		give string
	}{
		{"expired", expiring},
		{"unknown id", unknown},
		{"malformed", "ink_nope"},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := a.Authenticate(ctx, tt.give); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("got %+v, %v; want ErrInvalidToken", got, err)
			}
		})
	}
}
