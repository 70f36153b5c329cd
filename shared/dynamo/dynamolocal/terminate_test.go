package dynamolocal_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
)

// A transaction DynamoDB Local acknowledged just before Terminate is in its
// data folder after a restart on the same port and folder (with Stop's
// SIGKILL it may not be: the emulator commits transactions after answering),
// and the restarted emulator answers at the same endpoint.
func TestTerminateKeepsAcknowledgedWrites(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	first, err := dynamolocal.Start(ctx, dynamolocal.Options{Port: port, DBPath: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	db := dynamolocal.Client(first.Endpoint)
	if err := dynamolocal.CreateTable(ctx, db, "kept"); err != nil {
		t.Fatal(err)
	}
	key := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "META"}}
	}
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("kept"), Item: key("INC#1")}},
		{Put: &types.Put{TableName: aws.String("kept"), Item: key("DEDUP#1")}},
	}}); err != nil {
		t.Fatal(err)
	}
	first.Terminate()
	if err := dynamolocal.Ping(ctx, db); err == nil {
		t.Fatalf("got an answer at %s after Terminate, want the emulator gone", first.Endpoint)
	}
	second, err := dynamolocal.Start(ctx, dynamolocal.Options{Port: port, DBPath: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop()
	for _, pk := range []string{"INC#1", "DEDUP#1"} {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("kept"), Key: key(pk), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Item == nil {
			t.Errorf("item %s: got none after Terminate and a restart, want the acknowledged write kept", pk)
		}
	}
}
