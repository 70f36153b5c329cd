package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/auth"
)

var _ auth.Store = (*Store)(nil)

// API tokens live in one item collection: pk "TOKEN#", sk "TOKEN#<id>". A
// presented token is found by its full primary key (GetItem) and the CLI lists
// them with one Query on the partition: no Scan, no index. Tokens are few and
// the API caches what it reads, so the single partition stays cool.
const (
	TokenPK       = "TOKEN#" // exported for infra/storage: no function may write this partition
	tokenSKPrefix = "TOKEN#"
	// tokenRetention keeps an expired token listed (as expired) this long before
	// DynamoDB's TTL deletes it.
	tokenRetention = 30 * 24 * time.Hour
)

// tokenItem is a token as stored. Times are RFC 3339 strings; expires_at is the
// table's TTL attribute (Unix seconds), so the token's own expiry is
// token_expires_at.
type tokenItem struct {
	PK        string   `dynamodbav:"pk"`
	SK        string   `dynamodbav:"sk"`
	ID        string   `dynamodbav:"id"`
	Name      string   `dynamodbav:"name"`
	Scopes    []string `dynamodbav:"scopes"`
	Hash      []byte   `dynamodbav:"hash"`
	CreatedAt string   `dynamodbav:"created_at"`
	ExpiresAt string   `dynamodbav:"token_expires_at,omitempty"`
	Revoked   bool     `dynamodbav:"revoked"`
	RevokedAt string   `dynamodbav:"revoked_at,omitempty"`
	TTL       int64    `dynamodbav:"expires_at,omitempty"`
	Type      string   `dynamodbav:"type"`
}

// TypeToken is the "type" attribute of a token item (the stream consumer skips them).
const TypeToken = "token"

func tokenKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		PartitionKey: &types.AttributeValueMemberS{Value: TokenPK},
		SortKey:      &types.AttributeValueMemberS{Value: tokenSKPrefix + id},
	}
}

func formatTokenTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTokenTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func toTokenItem(t auth.Token) tokenItem {
	it := tokenItem{
		PK: TokenPK, SK: tokenSKPrefix + t.ID, ID: t.ID, Name: t.Name, Hash: t.Hash,
		CreatedAt: formatTokenTime(t.CreatedAt), ExpiresAt: formatTokenTime(t.ExpiresAt),
		Revoked: t.Revoked, RevokedAt: formatTokenTime(t.RevokedAt), Type: TypeToken,
	}
	for _, s := range t.Scopes {
		it.Scopes = append(it.Scopes, string(s))
	}
	if !t.ExpiresAt.IsZero() {
		it.TTL = t.ExpiresAt.Add(tokenRetention).Unix()
	}
	return it
}

func (it tokenItem) token() (auth.Token, error) {
	t := auth.Token{ID: it.ID, Name: it.Name, Hash: it.Hash, Revoked: it.Revoked}
	for _, s := range it.Scopes {
		t.Scopes = append(t.Scopes, auth.Scope(s))
	}
	var err error
	if t.CreatedAt, err = parseTokenTime(it.CreatedAt); err != nil {
		return auth.Token{}, fmt.Errorf("token %s: created_at: %w", it.ID, err)
	}
	if t.ExpiresAt, err = parseTokenTime(it.ExpiresAt); err != nil {
		return auth.Token{}, fmt.Errorf("token %s: token_expires_at: %w", it.ID, err)
	}
	if t.RevokedAt, err = parseTokenTime(it.RevokedAt); err != nil {
		return auth.Token{}, fmt.Errorf("token %s: revoked_at: %w", it.ID, err)
	}
	return t, nil
}

// PutAPIToken stores a new token. An id already taken is an error (ids are
// random, so it never happens by chance).
func (s *Store) PutAPIToken(ctx context.Context, t auth.Token) error {
	return putCredential(ctx, s, toTokenItem(t), "token", t.ID)
}

// APIToken returns the token with the id, or auth.ErrNotFound. It reads
// consistently, so a revocation counts from the moment it is written (the API's
// cache adds its own delay).
func (s *Store) APIToken(ctx context.Context, id string) (auth.Token, error) {
	return getCredential(ctx, s, tokenKey(id), "token", id, tokenItem.token)
}

// APITokens returns every stored token, oldest first.
func (s *Store) APITokens(ctx context.Context) ([]auth.Token, error) {
	return listCredentials(ctx, s, tokenSKPrefix, "token", tokenItem.token, func(t auth.Token) time.Time { return t.CreatedAt })
}

// RevokeAPIToken marks the token revoked. Revoking twice keeps the first time.
func (s *Store) RevokeAPIToken(ctx context.Context, id string, at time.Time) error {
	return s.revokeCredential(ctx, tokenKey(id), "token", id, at)
}
