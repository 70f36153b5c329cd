// Package dynamolocal runs AWS's own DynamoDB Local (the jar shipped in the pinned
// npm package amplify-dynamodb-simulator) as a child process, for the local
// runtime, the benchmarks and the integration tests.
package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/dynamo"
)

// jarDir is where npm installs the emulator, relative to the module root.
const jarDir = "node_modules/amplify-dynamodb-simulator/emulator"

// Options say how to run the emulator.
type Options struct {
	// Port to listen on (127.0.0.1); 0 picks a free one.
	Port int
	// DBPath keeps the data in this folder; empty keeps it in memory.
	DBPath string
	// Dir is the emulator folder; empty means $DYNAMODB_LOCAL_DIR, else the
	// module root's node_modules.
	Dir string
	// Log receives the emulator's output; nil discards it.
	Log *os.File
}

// Process is a running DynamoDB Local.
type Process struct {
	Endpoint string
	cmd      *exec.Cmd
	done     chan error
}

// Start launches DynamoDB Local and waits until it answers.
func Start(ctx context.Context, o Options) (*Process, error) {
	dir, err := emulatorDir(o.Dir)
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("java"); err != nil {
		return nil, errors.New("java is not on PATH: DynamoDB Local needs Java 17 or later")
	}
	port := o.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	args := []string{"-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(dir, "DynamoDBLocal.jar"), "-port", strconv.Itoa(port)}
	if o.DBPath != "" {
		if err := os.MkdirAll(o.DBPath, 0o755); err != nil {
			return nil, fmt.Errorf("create DynamoDB Local data folder: %w", err)
		}
		args = append(args, "-sharedDb", "-dbPath", o.DBPath)
	} else {
		args = append(args, "-inMemory")
	}
	cmd := exec.Command("java", args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = o.Log, o.Log
	// Its own process group, so that Stop (or the parent's Ctrl-C) ends the JVM.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	p := &Process{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	if err := p.waitReady(ctx, 60*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context, limit time.Duration) error {
	db := Client(p.Endpoint)
	deadline := time.Now().Add(limit)
	for {
		c, cancel := context.WithTimeout(ctx, time.Second)
		_, err := db.ListTables(c, &dynamodb.ListTablesInput{})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case err := <-p.done:
			return fmt.Errorf("DynamoDB Local exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("DynamoDB Local did not answer at %s within %s: %w", p.Endpoint, limit, err)
		}
	}
}

// Stop ends the emulator and waits for it.
func (p *Process) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// Client returns a DynamoDB client for a local endpoint, with dummy credentials.
func Client(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		// DynamoDB Local's responses carry no CRC32 the SDK can check.
		DisableValidateResponseChecksum: true,
		RetryMaxAttempts:                3,
	})
}

// CreateTable creates the platform's table (from the shared schema) and waits
// until it is active. An existing table is left as it is.
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

func emulatorDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("DYNAMODB_LOCAL_DIR")
	}
	if dir == "" {
		root, err := ModuleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, jarDir)
	}
	if _, err := os.Stat(filepath.Join(dir, "DynamoDBLocal.jar")); err != nil {
		return "", fmt.Errorf("DynamoDB Local is not installed at %s: run `make test` or `npm ci` in the repository first", dir)
	}
	return dir, nil
}

// ModuleRoot finds the folder holding go.mod, from the working directory up.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
