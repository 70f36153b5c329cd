// Command token manages the API's bearer tokens in the platform's table.
//
//	go run ./infra/token create --name ci --scopes reports:write,incidents:read [--ttl 90d]
//	go run ./infra/token list
//	go run ./infra/token revoke --id <id>
//	go run ./infra/token integration create --service checkout --kind pagerduty|opsgenie [--name alertmanager]
//	go run ./infra/token integration list
//	go run ./infra/token integration revoke --id <id>
//
// Every command takes --table (default $TABLE_NAME; with --endpoint,
// incidentd-local, the table of `make local`) and --endpoint (DynamoDB Local,
// e.g. http://127.0.0.1:8000; without it the default AWS configuration is used:
// environment, profile, SSO). create prints the token once on stdout
// (so TOKEN=$(go run ./infra/token create ...) works); only its hash is stored.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
	"github.com/incidentd/incidentd/shared/incident"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, openStore, time.Now); err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(2)
	}
}

// store is what the CLI keeps: API tokens and integration keys.
type store interface {
	auth.Store
	auth.IntegrationStore
	// ServiceConfig reads a service's settings (integration create warns
	// about a service that has none).
	ServiceConfig(ctx context.Context, name string) (incident.ServiceConfig, error)
}

// openStore returns the store of table, on DynamoDB Local when endpoint is set.
func openStore(ctx context.Context, table, endpoint string) (store, error) {
	if endpoint != "" {
		return dynamo.New(dynamolocal.Client(endpoint), table), nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return dynamo.New(dynamodb.NewFromConfig(cfg), table), nil
}

const usage = `usage:
  token create --name NAME --scopes SCOPE[,SCOPE...] [--ttl DURATION] [--table T] [--endpoint URL]
  token list [--table T] [--endpoint URL]
  token revoke --id ID [--table T] [--endpoint URL]
  token integration create --service NAME --kind pagerduty|opsgenie [--name NAME] [--table T] [--endpoint URL]
  token integration list [--table T] [--endpoint URL]
  token integration revoke --id ID [--table T] [--endpoint URL]

scopes: reports:write, incidents:read, incidents:write, services:read, services:write,
        oncall:read, oncall:write, admin (all)
--ttl: e.g. 90d, 12h; default: until revoked
--table: default $TABLE_NAME, or incidentd-local (make local's) with --endpoint
--endpoint: DynamoDB Local, e.g. http://127.0.0.1:8000 (make local's)
integration: a key for a PagerDuty Events API v2 sender (routing_key, 32 hex digits) or an
        Opsgenie Alert API sender (GenieKey, a UUID), bound to one service`

// localTable is the table `make local` creates, the default with --endpoint.
const localTable = "incidentd-local"

type opener func(ctx context.Context, table, endpoint string) (store, error)

func run(ctx context.Context, args []string, stdout, stderr io.Writer, open opener, now func() time.Time) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cmd, args := args[0], args[1:]
	if cmd == "integration" {
		return runIntegration(ctx, args, stdout, stderr, open, now)
	}
	fs, table, endpoint := tableFlags("token "+cmd, stderr)
	var name, scopes, ttl, id *string
	switch cmd {
	case "create":
		name = fs.String("name", "", "who or what uses the token; the actor of its timeline entries")
		scopes = fs.String("scopes", "", "comma-separated scopes")
		ttl = fs.String("ttl", "", "how long the token is valid (90d, 12h); default until revoked")
	case "list":
	case "revoke":
		id = fs.String("id", "", "the token's id (the part after ink_, as list shows it)")
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	if help, err := parseTable(fs, args, table, endpoint); help || err != nil {
		return err
	}
	store, err := open(ctx, *table, *endpoint)
	if err != nil {
		return err
	}
	switch cmd {
	case "create":
		return create(ctx, store, *name, *scopes, *ttl, stdout, stderr, now())
	case "list":
		return list(ctx, store, stdout, now())
	default:
		if !auth.ValidID(*id) {
			return fmt.Errorf("--id %q is not a token id (16 characters, as list shows)", *id)
		}
		if err := store.RevokeAPIToken(ctx, *id, now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s (instances that cached it accept it for at most %s more)\n", *id, auth.DefaultCacheTTL)
		return nil
	}
}

func create(ctx context.Context, store auth.Store, name, scopes, ttl string, stdout, stderr io.Writer, now time.Time) error {
	sc, err := auth.ParseScopes(scopes)
	if err != nil {
		return fmt.Errorf("--scopes: %w", err)
	}
	d, err := parseTTL(ttl)
	if err != nil {
		return err
	}
	plain, t, err := auth.Issue(ctx, store, name, sc, d, now)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, plain)
	expires := "never"
	if !t.ExpiresAt.IsZero() {
		expires = t.ExpiresAt.Format(time.RFC3339)
	}
	fmt.Fprintf(stderr, "created token %s (name %s, scopes %s, expires %s); it is shown only this once\n",
		t.ID, t.Name, auth.JoinScopes(t.Scopes), expires)
	return nil
}

func list(ctx context.Context, store auth.Store, stdout io.Writer, now time.Time) error {
	tokens, err := store.APITokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tEXPIRES\tSTATE")
	for _, t := range tokens {
		expires := "-"
		if !t.ExpiresAt.IsZero() {
			expires = t.ExpiresAt.UTC().Format(time.RFC3339)
		}
		state := "active"
		switch {
		case t.Revoked:
			state = "revoked " + t.RevokedAt.UTC().Format(time.RFC3339)
		case !t.Active(now):
			state = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, auth.JoinScopes(t.Scopes), t.CreatedAt.UTC().Format(time.RFC3339), expires, state)
	}
	return tw.Flush()
}

// parseTTL reads a Go duration, or a whole number of days ("90d").
func parseTTL(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 3650 {
			return 0, fmt.Errorf("--ttl %q: days must be a whole number from 1 to 3650", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--ttl %q is not a positive duration (e.g. 90d, 12h)", s)
	}
	return d, nil
}

// tableFlags returns the flag set of a command called name with its
// --table and --endpoint flags, read by parseTable.
func tableFlags(name string, stderr io.Writer) (fs *flag.FlagSet, table, endpoint *string) {
	fs = flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	table = fs.String("table", os.Getenv("TABLE_NAME"), "the platform's DynamoDB table")
	endpoint = fs.String("endpoint", "", "DynamoDB Local's URL")
	return fs, table, endpoint
}

// parseTable parses a command's flags, whose --table (TABLE_NAME) and
// --endpoint name the store: without a table, DynamoDB Local's table for an
// endpoint. help is true (and err nil) when the flags' usage was asked for
// and printed.
func parseTable(fs *flag.FlagSet, args []string, table, endpoint *string) (help bool, err error) {
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return true, nil // asking for help is no error
	} else if err != nil {
		return false, err
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *table == "" && *endpoint != "" {
		*table = localTable
	}
	if *table == "" {
		return false, errors.New("no table: pass --table or set TABLE_NAME")
	}
	return false, nil
}
