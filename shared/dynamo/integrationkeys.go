package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/auth"
)

var _ auth.IntegrationStore = (*Store)(nil)

// Integration keys (PagerDuty- and Opsgenie-compatible senders) live beside
// the API tokens, in the partition "TOKEN#" that no function's role may write
// (infra/storage), under sk "INTKEY#<id>": a presented key is one GetItem,
// the CLI lists them with one Query. API tokens' Query (begins_with TOKEN#)
// never meets them.
const integrationSKPrefix = "INTKEY#"

// TypeIntegrationKey is the "type" attribute of an integration key item.
const TypeIntegrationKey = "integration_key"

type integrationKeyItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ID        string `dynamodbav:"id"`
	Name      string `dynamodbav:"name"`
	Kind      string `dynamodbav:"kind"`
	Service   string `dynamodbav:"service"`
	Hash      []byte `dynamodbav:"hash"`
	CreatedAt string `dynamodbav:"created_at"`
	Revoked   bool   `dynamodbav:"revoked"`
	RevokedAt string `dynamodbav:"revoked_at,omitempty"`
	Type      string `dynamodbav:"type"`
}

func integrationKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		PartitionKey: &types.AttributeValueMemberS{Value: TokenPK},
		SortKey:      &types.AttributeValueMemberS{Value: integrationSKPrefix + id},
	}
}

func (it integrationKeyItem) key() (auth.IntegrationKey, error) {
	k := auth.IntegrationKey{ID: it.ID, Name: it.Name, Kind: auth.IntegrationKind(it.Kind), Service: it.Service,
		Hash: it.Hash, Revoked: it.Revoked}
	var err error
	if k.CreatedAt, err = parseTokenTime(it.CreatedAt); err != nil {
		return auth.IntegrationKey{}, fmt.Errorf("integration key %s: created_at: %w", it.ID, err)
	}
	if k.RevokedAt, err = parseTokenTime(it.RevokedAt); err != nil {
		return auth.IntegrationKey{}, fmt.Errorf("integration key %s: revoked_at: %w", it.ID, err)
	}
	return k, nil
}

// PutIntegrationKey stores a new integration key; an id already taken is an error.
func (s *Store) PutIntegrationKey(ctx context.Context, k auth.IntegrationKey) error {
	return putCredential(ctx, s, integrationKeyItem{
		PK: TokenPK, SK: integrationSKPrefix + k.ID, ID: k.ID, Name: k.Name, Kind: string(k.Kind), Service: k.Service,
		Hash: k.Hash, CreatedAt: formatTokenTime(k.CreatedAt), Revoked: k.Revoked, RevokedAt: formatTokenTime(k.RevokedAt),
		Type: TypeIntegrationKey,
	}, "integration key", k.ID)
}

// IntegrationKey returns the key with the id, or auth.ErrNotFound (a
// consistent read: a revocation counts at once).
func (s *Store) IntegrationKey(ctx context.Context, id string) (auth.IntegrationKey, error) {
	return getCredential(ctx, s, integrationKey(id), "integration key", id, integrationKeyItem.key)
}

// IntegrationKeys returns every integration key, oldest first.
func (s *Store) IntegrationKeys(ctx context.Context) ([]auth.IntegrationKey, error) {
	return listCredentials(ctx, s, integrationSKPrefix, "integration key", integrationKeyItem.key,
		func(k auth.IntegrationKey) time.Time { return k.CreatedAt })
}

// RevokeIntegrationKey marks the key revoked; revoking twice keeps the first time.
func (s *Store) RevokeIntegrationKey(ctx context.Context, id string, at time.Time) error {
	return s.revokeCredential(ctx, integrationKey(id), "integration key", id, at)
}
