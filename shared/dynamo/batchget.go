package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/errkind"
)

// batchGetLimit is BatchGetItem's limit of keys per request.
const batchGetLimit = 100

// batchGet reads the items of req (at most batchGetLimit keys) from the table
// with BatchGetItem and hands each to fn, in no particular order; a key
// without an item is skipped. Keys DynamoDB leaves unprocessed (throttling)
// are asked for again after a backoff, at most 10 times; then the store is
// errkind.Unavailable (the API answers 503).
func (s *Store) batchGet(ctx context.Context, req types.KeysAndAttributes, fn func(map[string]types.AttributeValue) error) error {
	if len(req.Keys) > batchGetLimit {
		return fmt.Errorf("batch get: %d keys, at most %d fit in one request", len(req.Keys), batchGetLimit)
	}
	pending := map[string]types.KeysAndAttributes{s.table: req}
	backoff := 20 * time.Millisecond
	for attempt := 1; len(pending[s.table].Keys) > 0; attempt++ {
		if attempt > 1 {
			// Unprocessed keys: the table is throttling; back off before asking again.
			if attempt > 10 {
				return fmt.Errorf("batch get: %d keys still unprocessed after %d attempts: %w", len(pending[s.table].Keys), attempt-1, errkind.Unavailable)
			}
			if err := wait(ctx, backoff); err != nil {
				return err
			}
			backoff = min(backoff*2, time.Second)
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			return err
		}
		for _, item := range out.Responses[s.table] {
			if err := fn(item); err != nil {
				return err
			}
		}
		pending = out.UnprocessedKeys
	}
	return nil
}
