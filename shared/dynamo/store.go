// Package dynamo is the platform's store: one DynamoDB table (single-table design)
// holding incidents, their timelines, dedup and delivery records, service
// configuration, log counters and API tokens.
package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/incident"
)

// Client is the part of the DynamoDB API the store uses; *dynamodb.Client
// satisfies it. It holds only what the functions' roles may call
// (infra/storage.ReadActions and WriteActions): no Scan, no DeleteItem.
type Client interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

var _ Client = (*dynamodb.Client)(nil)

var _ incident.Store = (*Store)(nil)

// Store reads and writes the platform's table.
type Store struct {
	db    Client
	table string
	now   func() time.Time
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read the time from now. The store needs the time
// only to tell expired records that DynamoDB's TTL has not deleted yet (TTL
// deletes within days, not at once); tests that move the incident service's
// clock must give the store the same clock.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns a store over the named table.
func New(db Client, table string, opts ...Option) *Store {
	s := &Store{db: guarded{db}, table: table, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Table returns the table's name.
func (s *Store) Table() string { return s.table }
