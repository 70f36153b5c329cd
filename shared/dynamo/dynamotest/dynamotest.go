// Package dynamotest runs the store's integration tests against DynamoDB Local,
// AWS's own emulator, started once per test binary on a free 127.0.0.1 port.
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
// in $DYNAMODB_LOCAL_DIR. It needs Java. Without either the tests fail: they are
// never skipped, since a skipped integration test hides a broken store.
package dynamotest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/dynamo"
)

// emulatorPath is where the npm package keeps the jar, relative to the module root.
const emulatorPath = "node_modules/amplify-dynamodb-simulator/emulator"

// startTimeout bounds how long the JVM may take to answer (it needs ~3 s).
const startTimeout = 60 * time.Second

var (
	// endpoint is the running emulator's URL; empty until Run started it.
	endpoint string
	client   *dynamodb.Client
	tables   atomic.Int64
)

// Run starts DynamoDB Local, runs the tests and stops the emulator. Use it in
// TestMain: os.Exit(dynamotest.Run(m)). It returns 1 without running the tests
// when the emulator cannot start.
func Run(m *testing.M) int {
	local, err := start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "dynamotest: %v\n", err)
		return 1
	}
	defer local.stop()
	endpoint = local.url
	client = NewClient(local.url)
	return m.Run()
}

// Endpoint returns the URL of the running DynamoDB Local, for code that builds
// its own client (the local runtime's tests). It fails tb if Run did not start one.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	if endpoint == "" {
		tb.Fatal("dynamotest: DynamoDB Local is not running: call os.Exit(dynamotest.Run(m)) from TestMain")
	}
	return endpoint
}

// Client returns a client for the running DynamoDB Local.
func Client(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	Endpoint(tb)
	return client
}

// NewClient returns a DynamoDB client for an emulator at url: static dummy
// credentials, region us-east-1, no shared config read from the environment.
// It keeps enough idle connections for hundreds of concurrent requests, and does
// not rate-limit its retries, so that contention tests measure the store.
func NewClient(url string) *dynamodb.Client {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 512
		t.MaxIdleConnsPerHost = 512
	})
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   httpClient,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.RateLimiter = ratelimit.None
		}),
		// DynamoDB Local's CRC32 header does not match what the SDK computes
		// for some responses; the SDK would log a warning for each.
		DisableValidateResponseChecksum: true,
	})
}

// NewTable creates a table from dynamo.CreateTableInput with a name no other
// test uses, and deletes it when the test ends.
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
		// Freeing the in-memory table keeps long benchmark runs small.
		_, _ = db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}

// Store returns a store over a fresh table.
func Store(tb testing.TB) *dynamo.Store {
	tb.Helper()
	return dynamo.New(Client(tb), NewTable(tb))
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// tableName makes a valid table name (3-255 of [a-zA-Z0-9_.-]) from a test name.
func tableName(test string, n int64) string {
	s := unsafeChars.ReplaceAllString(test, "_")
	if len(s) > 200 {
		s = s[:200]
	}
	return "t" + strconv.FormatInt(n, 10) + "_" + s
}

// local is a running DynamoDB Local.
type local struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{} // closed when the JVM exited
}

// start launches the JVM and waits until it answers. A port taken between
// choosing and binding it makes the JVM exit; start then tries another.
func start() (*local, error) {
	dir, err := emulatorDir()
	if err != nil {
		return nil, err
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, errors.New("java is not on PATH: DynamoDB Local needs Java 17 or later (run `make test`, which checks the toolchain)")
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		l, err := launch(java, dir)
		if err == nil {
			return l, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// emulatorDir finds the folder holding DynamoDBLocal.jar.
func emulatorDir() (string, error) {
	if d := os.Getenv("DYNAMODB_LOCAL_DIR"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "DynamoDBLocal.jar")); err != nil {
			return "", fmt.Errorf("DYNAMODB_LOCAL_DIR=%s holds no DynamoDBLocal.jar: %w", d, err)
		}
		return d, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	d := filepath.Join(root, emulatorPath)
	if _, err := os.Stat(filepath.Join(d, "DynamoDBLocal.jar")); err != nil {
		return "", fmt.Errorf("DynamoDB Local is not installed (no %s/DynamoDBLocal.jar): run `npm ci` in %s, or `make test`, or set DYNAMODB_LOCAL_DIR", emulatorPath, root)
	}
	return d, nil
}

// moduleRoot walks up from the working directory (the package under test) to
// the folder holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// freePort asks the kernel for a port nobody listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func launch(java, dir string) (*local, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(java,
		"-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(dir, "DynamoDBLocal.jar"),
		"-inMemory", "-sharedDb", "-port", strconv.Itoa(port))
	cmd.Dir = dir
	// The JVM's banner is noise; its errors matter when it does not come up.
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	l := &local{cmd: cmd, url: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
	started := make(chan error, 1)
	go l.run(started)
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	if err := l.waitReady(); err != nil {
		l.stop()
		if msg := stderr.String(); msg != "" {
			err = fmt.Errorf("%w\n%s", err, msg)
		}
		return nil, err
	}
	return l, nil
}

// run starts the JVM and waits for it on a goroutine locked to its OS thread:
// the parent-death signal (Linux) fires when the thread that forked the child
// exits, so the thread must live as long as the child does. When the test binary
// dies (timeout panic, ^C, kill -9), the kernel kills the JVM.
func (l *local) run(started chan<- error) {
	lockThread()
	defer close(l.done)
	l.cmd.SysProcAttr = sysProcAttr()
	if err := l.cmd.Start(); err != nil {
		started <- err
		return
	}
	started <- nil
	_ = l.cmd.Wait()
}

// waitReady polls ListTables until the emulator answers.
func (l *local) waitReady() error {
	db := NewClient(l.url)
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := db.ListTables(ctx, &dynamodb.ListTablesInput{}, func(o *dynamodb.Options) {
			o.RetryMaxAttempts = 1
		})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-l.done:
			return fmt.Errorf("DynamoDB Local on %s exited before answering: %v", l.url, l.cmd.ProcessState)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("DynamoDB Local on %s did not answer within %s: %w", l.url, startTimeout, err)
		}
	}
}

// stop kills the JVM (its whole process group) and waits for it to exit.
func (l *local) stop() {
	killGroup(l.cmd)
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		fmt.Fprintf(os.Stderr, "dynamotest: DynamoDB Local (pid %d) did not exit\n", l.cmd.Process.Pid)
	}
}
