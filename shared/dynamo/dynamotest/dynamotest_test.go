package dynamotest_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
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

// child runs this test binary again with env, only the test TestChild, and
// returns its output and whether it passed.
func child(t *testing.T, env ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run child: %v", err)
	}
	return string(out), err == nil
}

// TestChild is the child side of the tests below; run directly, it does nothing.
func TestChild(t *testing.T) {
	want := os.Getenv("DYNAMOTEST_CHILD_SEES_TABLE")
	if want == "" && os.Getenv("DYNAMOTEST_CHILD") == "" {
		return
	}
	out, err := dynamotest.Client(t).ListTables(context.Background(), &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	if want != "" && !slices.Contains(out.TableNames, want) {
		t.Errorf("got tables %v, want %s among them", out.TableNames, want)
	}
}

func TestEndpointEnvSharesTheRunningEmulator(t *testing.T) {
	table := dynamotest.NewTable(t)
	out, ok := child(t, "DYNAMODB_LOCAL_ENDPOINT="+dynamotest.Endpoint(t), "DYNAMOTEST_CHILD_SEES_TABLE="+table)
	if !ok {
		t.Errorf("got a failing child, want it to see table %s of this emulator:\n%s", table, out)
	}
}

func TestEndpointEnvThatDoesNotAnswerFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	out, ok := child(t, "DYNAMODB_LOCAL_ENDPOINT=http://"+addr, "DYNAMOTEST_CHILD=1")
	if ok || !strings.Contains(out, "does not answer") {
		t.Errorf("got passed=%v with output:\n%s\nwant a failure saying the endpoint does not answer", ok, out)
	}
}

func TestEndpointEnvOffThisMachineFails(t *testing.T) {
	// 192.0.2.0/24 is reserved for documentation: nothing is sent there.
	out, ok := child(t, "DYNAMODB_LOCAL_ENDPOINT=http://192.0.2.1:8000", "DYNAMOTEST_CHILD=1")
	if ok || !strings.Contains(out, "not on this machine") {
		t.Errorf("got passed=%v with output:\n%s\nwant a failure saying the endpoint is not on this machine", ok, out)
	}
}
