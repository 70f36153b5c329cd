package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/incident"
)

// batchWriteLimit is BatchWriteItem's limit of items per request.
const batchWriteLimit = 25

// BatchWriter writes items in bulk; *dynamodb.Client satisfies it. The
// functions' roles do not allow BatchWriteItem (Client does not hold it):
// an import runs with the operator's credentials, or against DynamoDB Local.
type BatchWriter interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// ImportDeployments writes history into table as it is: each record's item (version 1,
// with its index keys once finished), 25 to a BatchWriteItem request,
// replacing an item of the same id. It is a backfill of a history that has
// no other source, and how `make bench` loads the DORA job's 100,000
// deployments: it neither compares versions nor links pull requests to
// commits, as PutDeployment and ShipChange do.
func ImportDeployments(ctx context.Context, db BatchWriter, table string, rs []deploy.Record) error {
	items := make([]any, len(rs))
	for i, r := range rs {
		items[i] = newDeploymentItem(r, 1)
	}
	return importItems(ctx, db, table, items)
}

// ImportIncidents writes incidents into table as they are (their items alone, no
// timeline), 25 to a request, replacing an item of the same id: the
// DORA job's benchmark history.
func ImportIncidents(ctx context.Context, db BatchWriter, table string, incs []incident.Incident) error {
	items := make([]any, len(incs))
	for i, inc := range incs {
		items[i] = newIncidentItem(inc)
	}
	return importItems(ctx, db, table, items)
}

// importItems writes items with BatchWriteItem, asking again for the ones
// DynamoDB leaves unprocessed (throttling) after a backoff, at most 10 times.
func importItems(ctx context.Context, db BatchWriter, table string, items []any) error {
	for len(items) > 0 {
		n := min(len(items), batchWriteLimit)
		reqs := make([]types.WriteRequest, 0, n)
		for _, it := range items[:n] {
			av, err := attributevalue.MarshalMap(it)
			if err != nil {
				return fmt.Errorf("import: encode item: %w", err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
		pending := map[string][]types.WriteRequest{table: reqs}
		backoff := 20 * time.Millisecond
		for try := 0; len(pending) > 0; try++ {
			if try == 10 {
				return fmt.Errorf("import: %d items left unprocessed after %d tries", len(pending[table]), try)
			}
			if try > 0 {
				if err := wait(ctx, backoff); err != nil {
					return err
				}
				backoff *= 2
			}
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			pending = out.UnprocessedItems
		}
		items = items[n:]
	}
	return nil
}
