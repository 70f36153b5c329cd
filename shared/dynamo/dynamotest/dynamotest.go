// Package dynamotest runs the store's integration tests against DynamoDB Local,
// AWS's own emulator, started at most once per test binary (by the first test
// that needs it) on a free 127.0.0.1 port, with package dynamolocal.
//
//	func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }
//
//	func TestSomething(t *testing.T) {
//		store := dynamotest.Store(t) // a fresh table, deleted when the test ends
//		...
//	}
//
// The emulator is the jar of the pinned npm package amplify-dynamodb-simulator,
// found under <module root>/node_modules/amplify-dynamodb-simulator/emulator, or
// in $DYNAMODB_LOCAL_DIR, and run with Java ($DYNAMODB_LOCAL_JAVA_OPTS replaces
// the JVM options). Without Java or the jar, every test that asks for the
// emulator fails, saying what to install: it is never skipped, since a skipped
// integration test hides a broken store.
//
// With $DYNAMODB_LOCAL_ENDPOINT set (a URL on this machine, such as
// http://127.0.0.1:8000), the tests use the DynamoDB Local already running
// there and start none, so that fuzz workers and repeated runs share one JVM
// instead of paying its start-up each time:
//
//	java -Djava.library.path=$EMU/DynamoDBLocal_lib -jar $EMU/DynamoDBLocal.jar -inMemory -sharedDb -port 8000 &
//	DYNAMODB_LOCAL_ENDPOINT=http://127.0.0.1:8000 go test -fuzz=FuzzX ./pkg
//
// with EMU=node_modules/amplify-dynamodb-simulator/emulator. The emulator must
// run with -sharedDb (else each client sees its own tables). Every process
// names its tables apart, so several may share one emulator at once; tables are
// deleted when their test ends, but a process killed mid-run leaves its own.
// The tests fail if that endpoint does not answer.
package dynamotest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
)

// endpointEnv names the variable that points the tests at a running emulator.
const endpointEnv = "DYNAMODB_LOCAL_ENDPOINT"

var (
	// runCalled is set by Run before the tests start.
	runCalled bool
	startOnce sync.Once
	running   *dynamolocal.Process // nil when none was started, or with endpointEnv
	endpoint  string
	startErr  error
	client    *dynamodb.Client
	tables    atomic.Int64
	// runID sets this process's table names apart from those of other
	// processes sharing the emulator (fuzz workers, parallel test binaries).
	runID = strconv.FormatUint(uint64(rand.Uint32()), 36)
)

// Run runs the tests and then stops DynamoDB Local if it started one. Use it in
// TestMain: os.Exit(dynamotest.Run(m)). The emulator starts with the first test
// that asks for it, so a run that needs none (a fuzz target's workers, -run on
// unit tests) starts no JVM.
func Run(m *testing.M) int {
	runCalled = true
	code := m.Run()
	running.Stop()
	return code
}

// Endpoint returns the URL of DynamoDB Local, starting it on first use, for code
// that builds its own client (the local runtime's tests). It fails tb if the
// emulator cannot start or, with $DYNAMODB_LOCAL_ENDPOINT, does not answer.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	if !runCalled {
		tb.Fatal("dynamotest: call os.Exit(dynamotest.Run(m)) from TestMain, so that DynamoDB Local is stopped after the tests")
	}
	startOnce.Do(func() {
		endpoint, startErr = connect()
		if startErr == nil {
			client = NewClient(endpoint)
		}
	})
	if startErr != nil {
		tb.Fatalf("dynamotest: %v", startErr)
	}
	return endpoint
}

// connect starts DynamoDB Local, or checks the one $DYNAMODB_LOCAL_ENDPOINT names.
func connect() (string, error) {
	if u := os.Getenv(endpointEnv); u != "" {
		return external(u)
	}
	p, err := dynamolocal.Start(context.Background(), dynamolocal.Options{})
	if err != nil {
		return "", err
	}
	running = p
	return p.Endpoint, nil
}

// external checks that the emulator at u is on this machine and answers.
func external(u string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return "", fmt.Errorf("%s=%q is not a URL like http://127.0.0.1:8000", endpointEnv, u)
	}
	// The tests create and delete tables: they must never reach a real account.
	if h := parsed.Hostname(); h != "localhost" && !net.ParseIP(h).IsLoopback() {
		return "", fmt.Errorf("%s=%s is not on this machine: the tests only use an emulator on 127.0.0.1", endpointEnv, u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := dynamolocal.Ping(ctx, NewClient(u)); err != nil {
		return "", fmt.Errorf("%s=%s does not answer (start DynamoDB Local there with -sharedDb, or unset %[1]s to have the tests start their own): %[3]w", endpointEnv, u, err)
	}
	return u, nil
}

// Client returns a client for DynamoDB Local.
func Client(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	Endpoint(tb)
	return client
}

// NewClient returns a DynamoDB client for an emulator at url: that of
// dynamolocal.Client (dummy credentials, a large connection pool, retries
// without a rate limit, so that contention tests measure the store).
func NewClient(url string) *dynamodb.Client {
	return dynamolocal.Client(url)
}

// NewTable creates a table from dynamo.CreateTableInput with a name no other
// test uses, and deletes it when the test ends. TTL is left off: when DynamoDB
// deletes an expired item is up to it, and a test must not depend on that (the
// store treats expired records as gone by itself).
func NewTable(tb testing.TB) string {
	tb.Helper()
	db := Client(tb)
	name := tableName(tb.Name(), tables.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.CreateTable(ctx, dynamo.CreateTableInput(name)); err != nil {
		tb.Fatalf("dynamotest: create table %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Freeing the in-memory table keeps long benchmark runs (and a shared
		// emulator) small.
		_, _ = db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}

// Store returns a store over a fresh table. A test that moves the incident
// service's clock (incident.WithClock) passes the same clock here with
// dynamo.WithClock: the store tells expired dedup records by its own clock.
func Store(tb testing.TB, opts ...dynamo.Option) *dynamo.Store {
	tb.Helper()
	return dynamo.New(Client(tb), NewTable(tb), opts...)
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// tableName makes a valid table name (3-255 of [a-zA-Z0-9_.-]) from a test name.
func tableName(test string, n int64) string {
	s := unsafeChars.ReplaceAllString(test, "_")
	if len(s) > 200 {
		s = s[:200]
	}
	return "t" + runID + "_" + strconv.FormatInt(n, 10) + "_" + s
}
