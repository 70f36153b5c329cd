package dynamotest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
)

// Faults is a dynamo.Client in front of DynamoDB Local that injects the faults
// a store meets in AWS, for fault-injection tests of the real store:
//
//	f := dynamotest.NewFaults(t)
//	store := dynamo.New(f, dynamotest.NewTable(t))
//	f.CancelNext("ThrottlingError", "ThrottlingError") // the next two transactions are throttled
//	f.SetDown(true)                                    // every call now meets a refused connection
//
// Everything else goes to the emulator as it is.
type Faults struct {
	real        dynamo.Client
	unreachable dynamo.Client
	down        atomic.Bool

	mu      sync.Mutex
	cancels []string

	transactions atomic.Int64
}

// NewFaults returns a Faults over this test binary's DynamoDB Local, with no
// fault armed.
func NewFaults(tb testing.TB) *Faults {
	tb.Helper()
	return &Faults{real: Client(tb), unreachable: unreachableClient(tb)}
}

// unreachableClient returns a client whose endpoint refuses connections: a
// port that was listened on and closed again. It does not retry (the SDK's
// standard retryer would wait seconds between refused connections), so the
// error reaches the store at once, as it does after the retries in AWS.
func unreachableClient(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a closed port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String("http://" + addr),
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		RetryMaxAttempts: 1,
	})
}

// SetDown makes every following call meet a refused connection (down) or
// reach the emulator again.
func (f *Faults) SetDown(down bool) { f.down.Store(down) }

// CancelNext arms the next len(codes) TransactWriteItems calls: each is
// cancelled, without reaching the emulator, with a TransactionCanceledException
// whose first item's reason is the code (ThrottlingError, TransactionConflict,
// ConditionalCheckFailed…) and whose other items' reason is None, as DynamoDB
// answers.
func (f *Faults) CancelNext(codes ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancels = append(f.cancels, codes...)
}

// Transactions returns how many TransactWriteItems calls the store made,
// cancelled ones included.
func (f *Faults) Transactions() int { return int(f.transactions.Load()) }

func (f *Faults) client() dynamo.Client {
	if f.down.Load() {
		return f.unreachable
	}
	return f.real
}

func (f *Faults) nextCancel() (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.cancels) == 0 {
		return "", false
	}
	code := f.cancels[0]
	f.cancels = f.cancels[1:]
	return code, true
}

// TransactWriteItems cancels the call if one is armed, else passes it on.
func (f *Faults) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	f.transactions.Add(1)
	if code, ok := f.nextCancel(); ok {
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		codes := make([]string, len(reasons))
		for i := range reasons {
			codes[i] = "None"
			if i == 0 {
				codes[i] = code
			}
			reasons[i] = types.CancellationReason{Code: aws.String(codes[i])}
		}
		return nil, &types.TransactionCanceledException{
			Message:             aws.String(fmt.Sprintf("Transaction cancelled, please refer cancellation reasons for specific reasons [%s]", strings.Join(codes, ", "))),
			CancellationReasons: reasons,
		}
	}
	return f.client().TransactWriteItems(ctx, in, opts...)
}

func (f *Faults) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return f.client().GetItem(ctx, in, opts...)
}

func (f *Faults) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return f.client().PutItem(ctx, in, opts...)
}

func (f *Faults) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return f.client().UpdateItem(ctx, in, opts...)
}

func (f *Faults) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return f.client().Query(ctx, in, opts...)
}

func (f *Faults) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return f.client().BatchGetItem(ctx, in, opts...)
}

var _ dynamo.Client = (*Faults)(nil)
