// Command reindex re-keys the incidents of a table made before the indexes
// changed (the indexes open, service and time, projecting every attribute),
// so that today's indexes hold them: step 3 of the upgrade in
// infra/README.md ("Upgrading the table's indexes"). It scans the table once
// (with the operator's credentials: no function may scan), makes one
// conditional UpdateItem per incident not keyed yet, and may run again.
//
//	go run ./infra/reindex --table <TableName output>
//	go run ./infra/reindex --endpoint http://127.0.0.1:8000   # make local's table
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "reindex:", err)
		os.Exit(2)
	}
}

// localTable is the table `make local` creates, the default with --endpoint.
const localTable = "incidentd-local"

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	table := fs.String("table", os.Getenv("TABLE_NAME"), "the platform's DynamoDB table (default $TABLE_NAME)")
	endpoint := fs.String("endpoint", "", "DynamoDB Local's URL, e.g. http://127.0.0.1:8000 (make local's)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil // the flags' usage is printed: asking for help is no error
	} else if err != nil {
		return err
	}
	if *table == "" && *endpoint != "" {
		*table = localTable
	}
	if *table == "" {
		return fmt.Errorf("no table: give --table or set TABLE_NAME")
	}
	var db dynamo.ReindexClient
	if *endpoint != "" {
		db = dynamolocal.Client(*endpoint)
	} else {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("load AWS config: %w", err)
		}
		db = dynamodb.NewFromConfig(cfg)
	}
	n, err := dynamo.Reindex(ctx, db, *table)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-keyed %d incidents of %s\n", n, *table)
	return nil
}
