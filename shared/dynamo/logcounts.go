package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Log error counters (the Counter of shared/logscan). Items:
//
//	log batch    LOGB#<batch id>     W#<window start>   type=log_batch, expires_at
//	log counter  LOGC#<counter key>  W#<window start>   type=log_counter, count, window_start, expires_at
//
// <window start> is RFC 3339 UTC. A batch record says that a batch's counts for a
// window were added; it is written in the same transaction as the counters, so
// a redelivered batch adds nothing. Both expire a day after they matter, well
// past the 6 hours for which Lambda retries an asynchronous event.

// Item types of the log counters.
const (
	TypeLogBatch   = "log_batch"
	TypeLogCounter = "log_counter"
)

// MaxLogCounters is how many counters one call may add to: a transaction holds
// at most 100 writes, and one of them is the batch record.
const MaxLogCounters = 99

const (
	logBatchPrefix   = "LOGB#"
	logCounterPrefix = "LOGC#"
	logWindowPrefix  = "W#"
	logRetention     = 24 * time.Hour
	// logAttempts bounds the retries of a transaction that lost to a concurrent
	// one on the same counter (another stream of the service logging the same
	// error at the same moment).
	logAttempts = 8
)

func logWindowSK(start time.Time) string {
	return logWindowPrefix + start.UTC().Format(time.RFC3339)
}

// AddLogCounts adds a batch's error counts to the counters of one window and
// returns the counters' totals after it. The batch record and every counter
// are written in one transaction, so the counts of a batch are added exactly
// once: when the batch was added before, nothing is written, duplicate is true,
// and the totals are still returned (so that a caller that crashed after
// counting can finish its work). Totals are read with consistent reads after
// the write; they include what concurrent batches added.
//
// windowStart and window (its length) place the counters; counts maps a
// counter's key to what the batch adds (at most MaxLogCounters keys, each
// count at least 1).
func (s *Store) AddLogCounts(ctx context.Context, batchID string, windowStart time.Time, window time.Duration, counts map[string]int) (totals map[string]int, duplicate bool, err error) {
	if batchID == "" {
		return nil, false, errors.New("add log counts: empty batch id")
	}
	if len(counts) > MaxLogCounters {
		return nil, false, fmt.Errorf("add log counts of batch %s: %d counters, at most %d", batchID, len(counts), MaxLogCounters)
	}
	if len(counts) == 0 {
		return map[string]int{}, false, nil
	}
	keys := make([]string, 0, len(counts))
	for k, n := range counts {
		if k == "" || n < 1 {
			return nil, false, fmt.Errorf("add log counts of batch %s: counter %q adds %d, want a named counter adding at least 1", batchID, k, n)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys) // a fixed order makes concurrent transactions conflict less
	sk := logWindowSK(windowStart)
	items, err := s.logCountWrites(batchID, sk, windowStart, window, keys, counts)
	if err != nil {
		return nil, false, fmt.Errorf("add log counts of batch %s: %w", batchID, err)
	}
	duplicate, err = s.transactLogCounts(ctx, items)
	if err != nil {
		return nil, false, fmt.Errorf("add log counts of batch %s: %w", batchID, err)
	}
	totals, err = s.logTotals(ctx, sk, keys)
	if err != nil {
		return nil, false, fmt.Errorf("read log counters of window %s: %w", sk, err)
	}
	return totals, duplicate, nil
}

func (s *Store) logCountWrites(batchID, sk string, windowStart time.Time, window time.Duration, keys []string, counts map[string]int) ([]types.TransactWriteItem, error) {
	now := s.now()
	batchExpires := now.Add(logRetention).Unix()
	counterExpires := windowStart.Add(window).Add(logRetention)
	if counterExpires.Before(now) {
		// A late batch for an old window: DynamoDB ignores TTLs more than five
		// years old, so keep the counter a day from now instead.
		counterExpires = now.Add(logRetention)
	}
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(PartitionKey))).Build()
	if err != nil {
		return nil, fmt.Errorf("build batch condition: %w", err)
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			PartitionKey:  &types.AttributeValueMemberS{Value: logBatchPrefix + boundedKey(batchID)},
			SortKey:       &types.AttributeValueMemberS{Value: sk},
			TypeAttribute: &types.AttributeValueMemberS{Value: TypeLogBatch},
			TTLAttribute:  &types.AttributeValueMemberN{Value: strconv.FormatInt(batchExpires, 10)},
		},
		ConditionExpression:      cond.Condition(),
		ExpressionAttributeNames: cond.Names(),
	}}}
	for _, k := range keys {
		upd := expression.Add(expression.Name("count"), expression.Value(counts[k])).
			Set(expression.Name(TypeAttribute), expression.Value(TypeLogCounter)).
			Set(expression.Name("counter"), expression.Value(k)).
			Set(expression.Name("window_start"), expression.Value(windowStart.UTC().Format(time.RFC3339))).
			Set(expression.Name(TTLAttribute), expression.Value(counterExpires.Unix()))
		expr, err := expression.NewBuilder().WithUpdate(upd).Build()
		if err != nil {
			return nil, fmt.Errorf("build counter update: %w", err)
		}
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(s.table),
			Key:                       key(logCounterPrefix+boundedKey(k), sk),
			UpdateExpression:          expr.Update(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
		}})
	}
	return items, nil
}

// transactLogCounts writes the batch record and the counters, retrying when a
// concurrent transaction on the same counters got in the way. It reports
// duplicate when the batch record existed.
func (s *Store) transactLogCounts(ctx context.Context, items []types.TransactWriteItem) (duplicate bool, err error) {
	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return false, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return false, err
		}
		reasons := tce.CancellationReasons
		if len(reasons) > 0 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
			return true, nil
		}
		conflict := false
		for _, r := range reasons {
			if aws.ToString(r.Code) == "TransactionConflict" {
				conflict = true
			}
		}
		if !conflict || attempt == logAttempts {
			return false, err
		}
		d := time.Duration(float64(backoff) * (0.5 + rand.Float64()))
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(d):
		}
		backoff = min(backoff*2, 500*time.Millisecond)
	}
}

// logTotals reads the counters of one window (consistently). A counter that
// does not exist counts 0.
func (s *Store) logTotals(ctx context.Context, sk string, keys []string) (map[string]int, error) {
	byPK := make(map[string]string, len(keys))
	req := make([]map[string]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		pk := logCounterPrefix + boundedKey(k)
		byPK[pk] = k
		req = append(req, key(pk, sk))
	}
	totals := make(map[string]int, len(keys))
	for _, k := range keys {
		totals[k] = 0
	}
	pending := map[string]types.KeysAndAttributes{s.table: {
		Keys:                     req,
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#pk, #c"),
		ExpressionAttributeNames: map[string]string{"#pk": PartitionKey, "#c": "count"},
	}}
	backoff := 20 * time.Millisecond
	for attempt := 1; len(pending) > 0 && len(pending[s.table].Keys) > 0; attempt++ {
		if attempt > 1 {
			// Unprocessed keys: the table is throttling; back off before asking again.
			if attempt > 10 {
				return nil, fmt.Errorf("%d counters still unprocessed after %d attempts", len(pending[s.table].Keys), attempt-1)
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, time.Second)
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			return nil, err
		}
		for _, item := range out.Responses[s.table] {
			pk, ok := item[PartitionKey].(*types.AttributeValueMemberS)
			if !ok {
				continue
			}
			k, ok := byPK[pk.Value]
			if !ok {
				continue
			}
			if c, ok := item["count"].(*types.AttributeValueMemberN); ok {
				n, err := strconv.Atoi(c.Value)
				if err != nil {
					return nil, fmt.Errorf("counter %s: count %q is not an integer", k, c.Value)
				}
				totals[k] = n
			}
		}
		pending = out.UnprocessedKeys
	}
	return totals, nil
}
