package dynamolocal

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Meter counts what a DynamoDB client sends on the wire: each request (a
// retry is a request of its own) by operation, and the capacity DynamoDB
// reports it consumed (every request asks for ReturnConsumedCapacity TOTAL,
// indexes included; DynamoDB Local counts a transaction its own way, not by
// AWS's rule of 2 units per item: README, "Benchmarks"). Install it with
// Metered.
type Meter struct {
	mu    sync.Mutex
	calls map[string]int
	read  float64
	write float64
}

// Metered returns a copy of db whose requests m counts.
func Metered(db *dynamodb.Client, m *Meter) *dynamodb.Client {
	return dynamodb.New(db.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, m.install)
	})
}

// Calls is the number of requests since the last Reset.
func (m *Meter) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.calls {
		n += c
	}
	return n
}

// Operations lists the requests since the last Reset, e.g. "BatchGetItem
// TransactWriteItems", sorted.
func (m *Meter) Operations() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ops []string
	for op, n := range m.calls {
		for range n {
			ops = append(ops, op)
		}
	}
	sort.Strings(ops)
	return strings.Join(ops, " ")
}

// Units are the read and write capacity units consumed since the last Reset.
func (m *Meter) Units() (read, write float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.read, m.write
}

// Reset starts counting again.
func (m *Meter) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls, m.read, m.write = nil, 0, 0
}

func (m *Meter) install(st *middleware.Stack) error {
	if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("MeterCapacity",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			askCapacity(in.Parameters)
			out, md, err := next.HandleInitialize(ctx, in)
			if err == nil {
				m.consumed(out.Result)
			}
			return out, md, err
		}), middleware.After); err != nil {
		return err
	}
	return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("MeterCalls",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			m.mu.Lock()
			if m.calls == nil {
				m.calls = map[string]int{}
			}
			m.calls[awsmiddleware.GetOperationName(ctx)]++
			m.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func askCapacity(params any) {
	total := types.ReturnConsumedCapacityTotal
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = total
	}
}

// consumed adds the capacity a request's answer reports: a read's units
// are read units, a write's write units (DynamoDB reports CapacityUnits for
// TOTAL; refused writes report none here).
func (m *Meter) consumed(result any) {
	var caps []types.ConsumedCapacity
	write := false
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		caps = one(out.ConsumedCapacity)
	case *dynamodb.QueryOutput:
		caps = one(out.ConsumedCapacity)
	case *dynamodb.BatchGetItemOutput:
		caps = out.ConsumedCapacity
	case *dynamodb.PutItemOutput:
		caps, write = one(out.ConsumedCapacity), true
	case *dynamodb.UpdateItemOutput:
		caps, write = one(out.ConsumedCapacity), true
	case *dynamodb.TransactWriteItemsOutput:
		caps, write = out.ConsumedCapacity, true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range caps {
		u := aws.ToFloat64(c.CapacityUnits)
		if write {
			m.write += u
		} else {
			m.read += u
		}
	}
}

func one(c *types.ConsumedCapacity) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []types.ConsumedCapacity{*c}
}
