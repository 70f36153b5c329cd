package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
)

// A fan-out batch that keeps failing (and waits between its retries) holds up
// no escalation: the two mappings poll apart, as in AWS.
func TestFailingFanOutDoesNotDelayEscalations(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := dynamotest.Client(t)
	table := dynamotest.NewTable(t)
	entrySeen := make(chan struct{}, 10)
	incidentSeen := make(chan time.Time, 10)
	h := func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		resp := events.DynamoDBEventResponse{}
		for _, r := range ev.Records {
			switch {
			case isEntryInsert(r):
				entrySeen <- struct{}{}
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
			case isIncident(r):
				incidentSeen <- time.Now()
			}
		}
		return resp, nil
	}
	ps, err := newStreamPoller(ctx, db, streamsClient(dynamotest.Endpoint(t)), table, h, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		p.retryWait = 2 * time.Second // a failing fan-out batch takes 6 s
	}
	done := make(chan struct{})
	go func() { defer close(done); ps.run(ctx) }()
	defer func() { cancel(); <-done }()

	put := func(sk, typ string) {
		t.Helper()
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			dynamo.PartitionKey:  &types.AttributeValueMemberS{Value: "INC#01kkc0r8r0v8jpwcaajhtjk24r"},
			dynamo.SortKey:       &types.AttributeValueMemberS{Value: sk},
			dynamo.TypeAttribute: &types.AttributeValueMemberS{Value: typ},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("TL#1", dynamo.TypeEntry)
	select {
	case <-entrySeen:
	case <-time.After(10 * time.Second):
		t.Fatal("the fan-out never got the entry")
	}
	written := time.Now()
	put("META", dynamo.TypeIncident)
	select {
	case at := <-incidentSeen:
		if d := at.Sub(written); d > 1500*time.Millisecond {
			t.Errorf("incident delivered after %v, want within 1.5 s (not behind the fan-out's retries)", d)
		}
	case <-time.After(1500 * time.Millisecond):
		t.Error("incident not delivered within 1.5 s: it waits behind the fan-out's retries")
	}
}
