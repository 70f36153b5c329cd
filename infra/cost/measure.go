package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
	"github.com/incidentd/incidentd/shared/incident"
)

// capacity wraps the store's client: every call asks DynamoDB for its
// consumed capacity (indexes included) and adds it up, with the round trips.
type capacity struct {
	db dynamo.Client

	mu           sync.Mutex
	write, read  float64
	calls        int
	transactions int
}

var _ dynamo.Client = (*capacity)(nil)

// add counts one call and its consumed capacity (CapacityUnits: the table's
// and its indexes' together), read or written.
func (c *capacity) add(write bool, cc ...types.ConsumedCapacity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	for _, x := range cc {
		if x.CapacityUnits == nil {
			continue
		}
		if write {
			c.write += *x.CapacityUnits
		} else {
			c.read += *x.CapacityUnits
		}
	}
}

func one(cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return nil
	}
	return []types.ConsumedCapacity{*cc}
}

func (c *capacity) reset() (write, read float64, calls int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	write, read, calls = c.write, c.read, c.calls
	c.write, c.read, c.calls = 0, 0, 0
	return write, read, calls
}

const total = types.ReturnConsumedCapacityTotal

func (c *capacity) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := c.db.GetItem(ctx, in, opts...)
	if err == nil {
		c.add(false, one(out.ConsumedCapacity)...)
	}
	return out, err
}

func (c *capacity) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := c.db.PutItem(ctx, in, opts...)
	if err == nil {
		c.add(true, one(out.ConsumedCapacity)...)
	}
	return out, err
}

func (c *capacity) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := c.db.UpdateItem(ctx, in, opts...)
	if err == nil {
		c.add(true, one(out.ConsumedCapacity)...)
	}
	return out, err
}

func (c *capacity) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := c.db.Query(ctx, in, opts...)
	if err == nil {
		c.add(false, one(out.ConsumedCapacity)...)
	}
	return out, err
}

func (c *capacity) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := c.db.TransactWriteItems(ctx, in, opts...)
	if err == nil {
		c.add(true, out.ConsumedCapacity...)
	}
	return out, err
}

func (c *capacity) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	in.ReturnConsumedCapacity = total
	out, err := c.db.BatchGetItem(ctx, in, opts...)
	if err == nil {
		c.add(false, out.ConsumedCapacity...)
	}
	return out, err
}

// Measure runs alarm signals through the incident service on DynamoDB Local
// and prints the request units and round trips of each kind, averaged over n:
// an ALARM that opens an incident, another state change of that alarm (a
// join), and a redelivery of a delivery already applied.
func Measure(ctx context.Context, w io.Writer, n int) error {
	p, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	if err != nil {
		return err
	}
	defer p.Stop()
	db := dynamolocal.Client(p.Endpoint)
	if err := dynamolocal.CreateTable(ctx, db, "cost"); err != nil {
		return err
	}
	c := &capacity{db: db}
	svc := incident.NewService(dynamo.New(c, "cost"), incident.Rules{})
	signal := func(alarm, delivery string) incident.Signal {
		return incident.Signal{
			Source: incident.SourceAlarm, Kind: incident.Trigger, Service: "cost",
			DedupKey: "alarm:cost:" + alarm, Title: alarm + " in ALARM", Text: "Threshold Crossed",
			At: time.Now(), DeliveryID: delivery, Actor: "alarm:cost",
		}
	}
	kinds := []struct {
		name string
		sig  func(i int) incident.Signal
	}{
		{"open (a new alarm)", func(i int) incident.Signal { return signal(fmt.Sprint("open-", i), fmt.Sprint("open-", i)) }},
		{"join (the same alarm, a new state change)", func(i int) incident.Signal { return signal("open-0", fmt.Sprint("join-", i)) }},
		{"redelivery (a delivery already applied)", func(int) incident.Signal { return signal("open-0", "join-0") }},
	}
	fmt.Fprintf(w, "DynamoDB request units per alarm signal (ReturnConsumedCapacity on DynamoDB Local, mean of %d)\n", n)
	for _, k := range kinds {
		c.reset()
		for i := range n {
			if _, err := svc.Ingest(ctx, k.sig(i)); err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
		}
		report(w, c, k.name, n)
	}

	// People's actions on an incident: each on an incident of its own.
	ids := make([]string, n)
	for i := range n {
		res, err := svc.Ingest(ctx, signal(fmt.Sprint("human-", i), fmt.Sprint("human-", i)))
		if err != nil {
			return err
		}
		ids[i] = res.IncidentID
	}
	c.reset()
	for _, id := range ids {
		if _, err := svc.Acknowledge(ctx, id, "alice"); err != nil {
			return fmt.Errorf("acknowledge: %w", err)
		}
	}
	report(w, c, "acknowledge", n)
	for _, id := range ids {
		if _, err := svc.Resolve(ctx, id, "alice", incident.Resolution{RootCause: "a bad deploy", Fix: "rolled back"}); err != nil {
			return fmt.Errorf("resolve: %w", err)
		}
	}
	report(w, c, "resolve", n)

	// A deployment (POST /deployments does not exist yet): one put of a ~1 KB
	// item, as the model assumes.
	for i := range n {
		item := map[string]types.AttributeValue{
			dynamo.PartitionKey: &types.AttributeValueMemberS{Value: fmt.Sprint("DEPLOY#", i)},
			dynamo.SortKey:      &types.AttributeValueMemberS{Value: "META"},
			"body":              &types.AttributeValueMemberS{Value: strings.Repeat("x", 1000)},
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("cost"), Item: item}); err != nil {
			return fmt.Errorf("put a deployment: %w", err)
		}
	}
	report(w, c, "a ~1 KB item put (a deployment, modelled)", n)
	return nil
}

func report(w io.Writer, c *capacity, name string, n int) {
	write, read, calls := c.reset()
	fmt.Fprintf(w, "  %-44s write units %5.1f   read units %5.1f   round trips %4.1f\n",
		name+":", write/float64(n), read/float64(n), float64(calls)/float64(n))
}
