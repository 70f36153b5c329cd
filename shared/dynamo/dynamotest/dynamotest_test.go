package dynamotest_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

func TestNewTableHasTheSchema(t *testing.T) {
	name := dynamotest.NewTable(t)
	out, err := dynamotest.Client(t).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("describe table %s: %v", name, err)
	}
	if got, want := len(out.Table.GlobalSecondaryIndexes), len(dynamo.Indexes); got != want {
		t.Errorf("got %d indexes, want %d", got, want)
	}
}

func TestTablesAreSeparate(t *testing.T) {
	a, b := dynamotest.NewTable(t), dynamotest.NewTable(t)
	if a == b {
		t.Fatalf("got the same table %q twice, want two", a)
	}
	if got := dynamotest.Store(t).Table(); got == a || got == b {
		t.Errorf("Store reused table %q, want a fresh one", got)
	}
}
