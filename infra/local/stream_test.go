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

// The escalation mapping retries a failing batch without a count, as the
// deployed one does (a start failing while DynamoDB Local is down starts once
// it is back), until its record is 20 hours old; the fan-out gives up after
// its 3 retries.
func TestStreamRetriesAsTheMapping(t *testing.T) {
	tests := []struct {
		name         string
		m            mapping
		age          time.Duration // of the record
		failures     int           // the handler fails the batch this many times
		wantAttempts int
		wantHandled  bool
	}{
		{name: "escalations outlast 3 retries", m: mappings[0], age: time.Minute, failures: 12, wantAttempts: 13, wantHandled: true},
		{name: "escalations give up a record older than 20 h", m: mappings[0], age: 21 * time.Hour, failures: 12, wantAttempts: 1},
		{name: "fan-out gives up after 3 retries", m: mappings[1], age: time.Minute, failures: 12, wantAttempts: 4},
		{name: "fan-out handles a batch failing 3 times", m: mappings[1], age: time.Minute, failures: 3, wantAttempts: 4, wantHandled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attempts, handled := 0, false
			p := &streamPoller{m: tt.m, log: discardLogger(), retryWait: time.Microsecond,
				handle: func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
					attempts++
					if attempts <= tt.failures {
						return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: "1"}}}, nil
					}
					handled = true
					return events.DynamoDBEventResponse{}, nil
				}}
			rec := events.DynamoDBEventRecord{Change: events.DynamoDBStreamRecord{SequenceNumber: "1",
				ApproximateCreationDateTime: events.SecondsEpochTime{Time: time.Now().Add(-tt.age)}}}
			p.deliver(context.Background(), []events.DynamoDBEventRecord{rec})
			if attempts != tt.wantAttempts || handled != tt.wantHandled {
				t.Errorf("got %d attempts, handled %v; want %d, %v", attempts, handled, tt.wantAttempts, tt.wantHandled)
			}
		})
	}
}
