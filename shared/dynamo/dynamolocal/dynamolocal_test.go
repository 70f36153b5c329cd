package dynamolocal_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
)

func TestStartOnATakenPortSaysSo(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	p, err := dynamolocal.Start(context.Background(), dynamolocal.Options{Port: port})
	if err == nil {
		p.Stop()
		t.Fatalf("got DynamoDB Local started on taken port %d, want an error", port)
	}
	if !strings.Contains(err.Error(), "listens there already") {
		t.Errorf("got error %q, want it to say the port is taken", err)
	}
}

// make local keeps its data in a folder given relative to where it runs.
func TestDBPathKeepsTablesAcrossRestarts(t *testing.T) {
	// Found before leaving the module, from where the default lookup starts.
	emulator := os.Getenv("DYNAMODB_LOCAL_DIR")
	if emulator == "" {
		root, err := dynamolocal.ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		emulator = filepath.Join(root, "node_modules/amplify-dynamodb-simulator/emulator")
	}
	dir := t.TempDir()
	t.Chdir(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	first, err := dynamolocal.Start(ctx, dynamolocal.Options{DBPath: "data", Dir: emulator})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	if err := dynamolocal.CreateTable(ctx, dynamolocal.Client(first.Endpoint), "kept"); err != nil {
		t.Fatal(err)
	}
	first.Stop()
	if err := dynamolocal.Ping(ctx, dynamolocal.Client(first.Endpoint)); err == nil {
		t.Errorf("got an answer at %s after Stop, want the emulator gone", first.Endpoint)
	}
	if files, err := os.ReadDir(filepath.Join(dir, "data")); len(files) == 0 {
		t.Errorf("got no database in the data folder where make local runs (%v), want it there", err)
	}

	// make local runs it on a fixed port, 8000.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	second, err := dynamolocal.Start(ctx, dynamolocal.Options{Port: port, DBPath: "data", Dir: emulator})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop()
	if want := fmt.Sprintf("http://127.0.0.1:%d", port); second.Endpoint != want {
		t.Errorf("got endpoint %s, want %s", second.Endpoint, want)
	}
	out, err := dynamolocal.Client(second.Endpoint).ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(out.TableNames, "kept") {
		t.Errorf("got tables %v after a restart, want kept among them", out.TableNames)
	}
}
