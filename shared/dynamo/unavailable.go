package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/incidentd/incidentd/shared/errkind"
)

// guarded is the Client the store calls: every error that means "the store
// cannot serve now" also matches errkind.Unavailable, whatever the call, so
// that the API answers 503 with Retry-After and an event function fails its
// invocation (and AWS retries it) instead of treating the cause as unknown.
//
// The SDK's own retryer has already retried such an error (the standard
// retryer: throttling codes, 5xx, connection errors, with jittered exponential
// backoff) before guarded sees it; guarded only names what is left.
type guarded struct{ db Client }

func (g guarded) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := g.db.GetItem(ctx, in, opts...)
	return out, markUnavailable(err)
}

func (g guarded) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := g.db.PutItem(ctx, in, opts...)
	return out, markUnavailable(err)
}

func (g guarded) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := g.db.UpdateItem(ctx, in, opts...)
	return out, markUnavailable(err)
}

func (g guarded) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := g.db.Query(ctx, in, opts...)
	return out, markUnavailable(err)
}

func (g guarded) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := g.db.TransactWriteItems(ctx, in, opts...)
	return out, markUnavailable(err)
}

func (g guarded) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := g.db.BatchGetItem(ctx, in, opts...)
	return out, markUnavailable(err)
}

// throttleCodes are DynamoDB's error codes for a request refused for its rate.
var throttleCodes = map[string]bool{
	"ThrottlingException":                    true,
	"ProvisionedThroughputExceededException": true,
	"RequestLimitExceeded":                   true,
}

// markUnavailable returns err matching errkind.Unavailable as well when it
// is transient: the store could not be reached (connection refused or reset,
// DNS), did not answer in time, answered with a 5xx, or kept throttling. Any
// other error (a failed condition, a cancelled transaction, a validation
// error) is returned as it is.
func markUnavailable(err error) error {
	if err == nil || errors.Is(err, errkind.Unavailable) || !transient(err) {
		return err
	}
	return fmt.Errorf("%w (%w)", err, errkind.Unavailable)
}

func transient(err error) bool {
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) && throttleCodes[api.ErrorCode()] {
		return true
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// Bounds of the store's own retries of a transaction cancelled for a
// transient reason (throttling, a conflicting transaction): at most
// transactAttempts tries, the n-th retry after a random wait in
// [0, min(transactBackoffMax, transactBackoffBase·2ⁿ⁻¹)) ("full jitter"), so
// that writers throttled together do not come back together. The waits add
// up to at most 775 ms: a human's action never waits long behind them.
const (
	transactAttempts    = 6
	transactBackoffBase = 25 * time.Millisecond
	transactBackoffMax  = 400 * time.Millisecond
)

// transactBackoff is the wait before retry n (1-based) of a transaction.
func transactBackoff(n int) time.Duration {
	ceiling := min(transactBackoffBase<<(n-1), transactBackoffMax)
	return rand.N(ceiling)
}

// wait sleeps for d or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
