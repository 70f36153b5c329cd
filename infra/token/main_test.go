package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// cli runs the command against DynamoDB Local through --endpoint, as a developer would.
func cli(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	now := func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }
	err = run(context.Background(), args, &out, &errOut, openStore, now)
	return out.String(), errOut.String(), err
}

func TestCreateListRevoke(t *testing.T) {
	table := dynamotest.NewTable(t)
	ep := dynamotest.Endpoint(t)

	out, msg, err := cli(t, "create", "--name", "ci", "--scopes", "reports:write,incidents:read", "--ttl", "90d", "--table", table, "--endpoint", ep)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	token := strings.TrimSpace(out)
	id, _, err := auth.Parse(token)
	if err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("create printed %q, want one token line: %v", out, err)
	}
	if !strings.Contains(msg, "shown only this once") || !strings.Contains(msg, "2027-02-22T12:00:00Z") {
		t.Errorf("got message %q, want the once-only warning and the expiry", msg)
	}

	// The printed token authenticates against the same table.
	store, _ := openStore(context.Background(), table, ep)
	tok, err := auth.NewAuthenticator(store).Authenticate(context.Background(), token)
	if err != nil || !tok.Allows(auth.ScopeReportsWrite) || tok.Allows(auth.ScopeIncidentsWrite) {
		t.Fatalf("got %+v, %v; want the ci token with its two scopes", tok, err)
	}

	out, _, err = cli(t, "list", "--table", table, "--endpoint", ep)
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "reports:write,incidents:read") || !strings.Contains(out, "active") {
		t.Fatalf("list: got %q, %v; want the active token", out, err)
	}
	if strings.Contains(out, token) {
		t.Error("list printed the token's secret, want only its id")
	}

	if out, _, err = cli(t, "revoke", "--id", id, "--table", table, "--endpoint", ep); err != nil || !strings.Contains(out, "revoked "+id) {
		t.Fatalf("revoke: got %q, %v", out, err)
	}
	out, _, _ = cli(t, "list", "--table", table, "--endpoint", ep)
	if !strings.Contains(out, "revoked 2026-11-24T12:00:00Z") {
		t.Errorf("list after revoke: got %q, want the token revoked", out)
	}
	if _, err := auth.NewAuthenticator(store).Authenticate(context.Background(), token); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("revoked token: got %v, want ErrInvalidToken", err)
	}
}

func TestCommandErrors(t *testing.T) {
	table := dynamotest.NewTable(t)
	ep := dynamotest.Endpoint(t)
	t.Setenv("TABLE_NAME", "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage"},
		{"unknown command", []string{"delete"}, "unknown command"},
		{"no table", []string{"list"}, "--table"},
		{"unknown scope", []string{"create", "--name", "x", "--scopes", "root", "--table", table, "--endpoint", ep}, "root"},
		{"no scope", []string{"create", "--name", "x", "--table", table, "--endpoint", ep}, "scope"},
		{"no name", []string{"create", "--scopes", "admin", "--table", table, "--endpoint", ep}, "name"},
		{"bad ttl", []string{"create", "--name", "x", "--scopes", "admin", "--ttl", "soon", "--table", table, "--endpoint", ep}, "--ttl"},
		{"bad id", []string{"revoke", "--id", "x", "--table", table, "--endpoint", ep}, "--id"},
		{"unknown id", []string{"revoke", "--id", "0000000000000000", "--table", table, "--endpoint", ep}, "not found"},
		{"stray argument", []string{"list", "extra", "--table", table}, "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := cli(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, %v; want an error mentioning %q", out, err, tt.want)
			}
		})
	}
}

func TestParseTTL(t *testing.T) {
	tests := []struct {
		give    string
		want    time.Duration
		wantErr bool
	}{
		{give: "", want: 0},
		{give: "90d", want: 90 * 24 * time.Hour},
		{give: "12h", want: 12 * time.Hour},
		{give: "0d", wantErr: true},
		{give: "-1h", wantErr: true},
		{give: "1.5d", wantErr: true},
		{give: "forever", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseTTL(tt.give)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseTTL(%q) = %s, %v; want %s (error %v)", tt.give, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestEndpointDefaultsToTheLocalTable(t *testing.T) {
	t.Setenv("TABLE_NAME", "")
	db := dynamotest.Client(t)
	if _, err := db.CreateTable(context.Background(), dynamo.CreateTableInput(localTable)); err != nil {
		t.Fatalf("create %s: %v", localTable, err)
	}
	if _, _, err := cli(t, "create", "--name", "dev", "--scopes", "admin", "--endpoint", dynamotest.Endpoint(t)); err != nil {
		t.Fatalf("create without --table: %v", err)
	}
	out, _, err := cli(t, "list", "--table", localTable, "--endpoint", dynamotest.Endpoint(t))
	if err != nil || !strings.Contains(out, "dev") {
		t.Errorf("got %q, %v; want the token in %s", out, err, localTable)
	}
}
