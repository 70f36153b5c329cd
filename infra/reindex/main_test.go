package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// The command re-keys the table it is given (the work is dynamo.Reindex's,
// tested there) and says how many incidents it changed; without a table it
// refuses.
func TestRun(t *testing.T) {
	table := dynamotest.NewTable(t)
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"--endpoint", dynamotest.Endpoint(t), "--table", table}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if want := "re-keyed 0 incidents of " + table + "\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	t.Setenv("TABLE_NAME", "")
	if err := run(context.Background(), nil, &out, &errs); err == nil {
		t.Error("got no error without a table, want one")
	}
}
