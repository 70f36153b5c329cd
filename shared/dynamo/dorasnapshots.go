package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/dora"
)

// TypeDORASnapshot is a daily DORA snapshot (the "type" attribute).
const TypeDORASnapshot = "dora_snapshot"

// DORASnapshotTTL is how long a snapshot is kept: a little more than a year
// of daily trends (GET /metrics/dora/history reads at most 400 days).
const DORASnapshotTTL = 400 * 24 * time.Hour

// A DORA snapshot is one item per scope, window and UTC day:
//
//	DORA#<service, or * for all>#<environment>   <window days, 3 digits>#<YYYY-MM-DD>   type=dora_snapshot, report, computed_at, expires_at
//
// A run the same day overwrites the day's item (a PutItem: idempotent), and
// one scope's history is a key range of one partition. In no index.
const doraPrefix = "DORA#"

func doraPK(service, env string) string {
	if service == "" {
		service = dora.AllServices
	}
	return doraPrefix + service + "#" + env
}

func doraSK(windowDays int, day string) string { return fmt.Sprintf("%03d#%s", windowDays, day) }

type doraSnapshotItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	Service     string `dynamodbav:"service"`
	Environment string `dynamodbav:"environment"`
	WindowDays  int    `dynamodbav:"window_days"`
	Day         string `dynamodbav:"day"`
	ComputedAt  string `dynamodbav:"computed_at"`
	Report      string `dynamodbav:"report"` // the report's JSON
	ExpiresAt   int64  `dynamodbav:"expires_at"`
}

// PutDORASnapshot writes (or overwrites) the snapshot of its scope, window
// and day, expiring DORASnapshotTTL after it was computed.
func (s *Store) PutDORASnapshot(ctx context.Context, snap dora.Snapshot) error {
	env := snap.Environment
	if env == "" {
		env = dora.DefaultEnvironment
	}
	it := doraSnapshotItem{
		PK: doraPK(snap.Service, env), SK: doraSK(snap.WindowDays, snap.Day), Type: TypeDORASnapshot,
		Service: snap.Service, Environment: env, WindowDays: snap.WindowDays, Day: snap.Day,
		ComputedAt: snap.ComputedAt.UTC().Format(time.RFC3339), Report: string(snap.Report),
		ExpiresAt: snap.ComputedAt.Add(DORASnapshotTTL).Unix(),
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("encode DORA snapshot: %w", err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av}); err != nil {
		return fmt.Errorf("put DORA snapshot %s %s: %w", it.PK, it.SK, err)
	}
	return nil
}

// DORASnapshots returns the snapshots of a scope and window for the days
// from ≤ day ≤ to (YYYY-MM-DD), oldest first: one Query of the scope's
// partition, a key range (a page per 1 MB: about 400 snapshots).
func (s *Store) DORASnapshots(ctx context.Context, scope dora.Scope, windowDays int, from, to string) ([]dora.Snapshot, error) {
	env := scope.Environment
	if env == "" {
		env = dora.DefaultEnvironment
	}
	kc := expression.Key(PartitionKey).Equal(expression.Value(doraPK(scope.Service, env))).
		And(expression.KeyBetween(expression.Key(SortKey), expression.Value(doraSK(windowDays, from)), expression.Value(doraSK(windowDays, to))))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, fmt.Errorf("build DORA snapshot query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}
	out := []dora.Snapshot{}
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read DORA snapshots: %w", err)
		}
		var items []doraSnapshotItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("decode DORA snapshots: %w", err)
		}
		for _, it := range items {
			at, _ := time.Parse(time.RFC3339, it.ComputedAt)
			out = append(out, dora.Snapshot{
				Service: it.Service, Environment: it.Environment, WindowDays: it.WindowDays,
				Day: it.Day, ComputedAt: at, Report: []byte(it.Report),
			})
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
