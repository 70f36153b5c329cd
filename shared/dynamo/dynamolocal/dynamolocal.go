// Package dynamolocal runs AWS's own DynamoDB Local (the jar shipped in the
// pinned npm package amplify-dynamodb-simulator) as a child process. It is the
// one launcher behind the local runtime (infra/local), the benchmarks
// (infra/bench) and the integration tests (package dynamotest).
//
// The jar is looked for in Options.Dir, else in $DYNAMODB_LOCAL_DIR, else under
// <module root>/node_modules/amplify-dynamodb-simulator/emulator, and run with
// the java on PATH (Java 17 or later). $DYNAMODB_LOCAL_JAVA_OPTS replaces the
// JVM options (see defaultJavaOpts).
package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
)

// jarDir is where npm installs the emulator, relative to the module root.
const jarDir = "node_modules/amplify-dynamodb-simulator/emulator"

// readyTimeout bounds how long the JVM may take to answer: ~3 s on an idle
// machine, over 30 s on a loaded 2-core one.
const readyTimeout = 2 * time.Minute

// defaultJavaOpts are the JVM options unless $DYNAMODB_LOCAL_JAVA_OPTS is set.
// On small machines the JIT's second tier and the parallel collectors cost more
// CPU than a test run or a local session ever wins back: with these, a run of
// the store's tests takes less than half the CPU time.
const defaultJavaOpts = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"

// freePortAttempts is how many free ports Start tries: another process can take
// the one it picked before the JVM binds it.
const freePortAttempts = 3

// errExited marks a JVM that died before answering, most often because its port
// was taken: with a port of its own choosing, Start tries another.
var errExited = errors.New("exited before answering")

// Options say how to run the emulator.
type Options struct {
	// Port to listen on; 0 picks a free one (and another if that one is taken
	// before the JVM binds it). A fixed port is tried once: if something
	// listens there already, Start says so.
	Port int
	// DBPath keeps the data in this folder (created if missing); empty keeps it
	// in memory. Either way every client sees the same tables (-sharedDb), so
	// that tables do not depend on the credentials or region of the client.
	DBPath string
	// Dir is the emulator folder; empty means $DYNAMODB_LOCAL_DIR, else the
	// module root's node_modules.
	Dir string
	// Log receives the emulator's output; nil discards it. Its errors are kept
	// either way, to explain a start that fails.
	Log io.Writer
}

// Process is a running DynamoDB Local.
type Process struct {
	// Endpoint is its URL, http://127.0.0.1:<port>.
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{} // closed when the JVM exited
	stderr   *lockedBuffer
	stopOnce sync.Once
}

// Start launches DynamoDB Local and waits until it answers (or ctx ends). The
// JVM dies with the calling process on Linux even if Stop is never called.
func Start(ctx context.Context, o Options) (*Process, error) {
	dir, err := emulatorDir(o.Dir)
	if err != nil {
		return nil, err
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, errors.New("java is not on PATH: DynamoDB Local needs a Java 17 or later runtime (e.g. apt-get install openjdk-17-jre-headless; `make test` checks the toolchain)")
	}
	if o.DBPath != "" {
		// The JVM runs in the emulator folder: a relative path must not land there.
		if o.DBPath, err = filepath.Abs(o.DBPath); err != nil {
			return nil, fmt.Errorf("DynamoDB Local data folder: %w", err)
		}
		if err := os.MkdirAll(o.DBPath, 0o755); err != nil {
			return nil, fmt.Errorf("create DynamoDB Local data folder: %w", err)
		}
	}
	if o.Port != 0 {
		if err := checkPortFree(o.Port); err != nil {
			return nil, err
		}
		return launch(ctx, java, dir, o.Port, o)
	}
	var lastErr error
	for range freePortAttempts {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p, err := launch(ctx, java, dir, port, o)
		if !errors.Is(err, errExited) {
			return p, err
		}
		lastErr = err
	}
	return nil, lastErr
}

func launch(ctx context.Context, java, dir string, port int, o Options) (*Process, error) {
	args := append(javaOpts(),
		"-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(dir, "DynamoDBLocal.jar"),
		"-port", strconv.Itoa(port), "-sharedDb")
	if o.DBPath != "" {
		args = append(args, "-dbPath", o.DBPath)
	} else {
		args = append(args, "-inMemory")
	}
	cmd := exec.Command(java, args...)
	cmd.Dir = dir
	p := &Process{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		cmd:      cmd,
		done:     make(chan struct{}),
		stderr:   new(lockedBuffer),
	}
	cmd.Stdout = o.Log
	cmd.Stderr = p.stderr
	if o.Log != nil {
		cmd.Stderr = io.MultiWriter(o.Log, p.stderr)
	}
	started := make(chan error, 1)
	go p.run(started)
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	if err := p.waitReady(ctx); err != nil {
		p.Stop()
		// The banner is noise; the JVM's errors say why it did not come up.
		if msg := strings.TrimSpace(p.stderr.String()); msg != "" {
			err = fmt.Errorf("%w\n%s", err, msg)
		}
		return nil, err
	}
	return p, nil
}

func javaOpts() []string {
	opts, ok := os.LookupEnv("DYNAMODB_LOCAL_JAVA_OPTS")
	if !ok {
		opts = defaultJavaOpts
	}
	return strings.Fields(opts)
}

// run starts the JVM and waits for it on a goroutine locked to its OS thread:
// the parent-death signal (Linux) fires when the thread that forked the child
// exits, so the thread must live as long as the child does. When our process
// dies (a test's timeout panic, ^C, kill -9), the kernel kills the JVM.
func (p *Process) run(started chan<- error) {
	lockThread()
	defer close(p.done)
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		started <- err
		return
	}
	started <- nil
	_ = p.cmd.Wait()
}

// waitReady polls the emulator until it answers.
func (p *Process) waitReady(ctx context.Context) error {
	db := Client(p.Endpoint)
	deadline := time.Now().Add(readyTimeout)
	for {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := Ping(c, db)
		cancel()
		if err == nil {
			select {
			case <-p.done: // what answered is another process on our port
			default:
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("DynamoDB Local on %s %w (%v)", p.Endpoint, errExited, p.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("wait for DynamoDB Local on %s: %w", p.Endpoint, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("DynamoDB Local on %s did not answer within %s: %w", p.Endpoint, readyTimeout, err)
		}
	}
}

// Stop kills the emulator (its whole process group) and waits for it to exit.
// Calling it again does nothing.
func (p *Process) Stop() {
	if p == nil {
		return
	}
	p.stopOnce.Do(func() {
		select {
		case <-p.done: // already gone: its pid may be someone else's by now
			return
		default:
		}
		killGroup(p.cmd)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			fmt.Fprintf(os.Stderr, "dynamolocal: DynamoDB Local (pid %d) did not exit\n", p.cmd.Process.Pid)
		}
	})
}

// Terminate stops the emulator as an operator's `kill` would (SIGTERM): the
// JVM exits after writing what it acknowledged to its data folder; after
// terminateGrace it is killed (Stop). Stop's SIGKILL, by contrast, loses a
// TransactWriteItems acknowledged less than ~0.5 s before (DynamoDB Local
// 1.25.1 commits transactions to its data folder after answering), which
// DynamoDB itself never does: a fault-injection test that restarts the
// emulator on the same DBPath stops it with Terminate.
func (p *Process) Terminate() {
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	terminate(p.cmd)
	select {
	case <-p.done:
	case <-time.After(terminateGrace):
	}
	p.Stop()
}

// terminateGrace is how long Terminate waits for the JVM to exit.
const terminateGrace = 10 * time.Second

// Client returns a DynamoDB client for an emulator at endpoint: static dummy
// credentials, region us-east-1, no shared config read from the environment.
// It keeps enough idle connections for hundreds of concurrent requests and does
// not rate-limit its retries, so that contention tests and benchmarks measure
// the store rather than the client.
func Client(endpoint string) *dynamodb.Client {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 512
		t.MaxIdleConnsPerHost = 512
	})
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
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

// Ping asks the emulator behind db for one table name, without retries: nil
// means it answers.
func Ping(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}, func(o *dynamodb.Options) {
		o.RetryMaxAttempts = 1
	})
	return err
}

// CreateTable creates the platform's table (from the shared schema), waits
// until it is active and turns TTL on. An existing table is left as it is.
func CreateTable(ctx context.Context, db *dynamodb.Client, name string) error {
	_, err := db.CreateTable(ctx, dynamo.CreateTableInput(name))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(dynamo.TTLAttribute), Enabled: aws.Bool(true)},
	}); err != nil && !errors.As(err, new(*types.ResourceInUseException)) {
		var ve interface{ ErrorCode() string }
		if !errors.As(err, &ve) || ve.ErrorCode() != "ValidationException" { // already enabled
			return fmt.Errorf("enable TTL on %s: %w", name, err)
		}
	}
	return nil
}

// emulatorDir finds the folder holding DynamoDBLocal.jar, saying what to do
// when it is missing.
func emulatorDir(dir string) (string, error) {
	if dir != "" {
		return dir, hasJar(dir, dir)
	}
	if d := os.Getenv("DYNAMODB_LOCAL_DIR"); d != "" {
		return d, hasJar(d, "DYNAMODB_LOCAL_DIR="+d)
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	d := filepath.Join(root, jarDir)
	if _, err := os.Stat(filepath.Join(d, "DynamoDBLocal.jar")); err != nil {
		return "", fmt.Errorf("DynamoDB Local is not installed (no %s/DynamoDBLocal.jar): run `npm ci` in %s, or `make test`, or set DYNAMODB_LOCAL_DIR", jarDir, root)
	}
	return d, nil
}

func hasJar(dir, what string) error {
	if _, err := os.Stat(filepath.Join(dir, "DynamoDBLocal.jar")); err != nil {
		return fmt.Errorf("%s holds no DynamoDBLocal.jar: %w", what, err)
	}
	return nil
}

// ModuleRoot walks up from the working directory (in a test, the package's
// folder) to the folder holding go.mod.
func ModuleRoot() (string, error) {
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

// checkPortFree fails when something listens on port already: without this,
// the new JVM would die on bind while the old listener answered for it.
func checkPortFree(port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot run DynamoDB Local on %s, something listens there already (another DynamoDB Local or `make local`?): stop it or choose another port: %w", addr, err)
	}
	return l.Close()
}
