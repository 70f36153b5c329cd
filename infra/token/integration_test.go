package main

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/auth"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
)

func TestIntegrationCreateListRevoke(t *testing.T) {
	table := dynamotest.NewTable(t)
	ep := dynamotest.Endpoint(t)
	tests := []struct {
		kind   auth.IntegrationKind
		format *regexp.Regexp
	}{
		{auth.KindPagerDuty, regexp.MustCompile(`^[0-9a-f]{32}$`)},
		{auth.KindOpsgenie, regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			out, msg, err := cli(t, "integration", "create", "--service", "checkout", "--kind", string(tt.kind), "--name", "alertmanager", "--table", table, "--endpoint", ep)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			key := strings.TrimSpace(out)
			if !tt.format.MatchString(key) {
				t.Fatalf("got key %q, want it to match %s", key, tt.format)
			}
			if !strings.Contains(msg, "shown only this once") || !strings.Contains(msg, "service checkout has no settings yet") {
				t.Errorf("got message %q, want the once-only warning and a note that checkout has no settings", msg)
			}
			store, _ := openStore(context.Background(), table, ep)
			k, err := auth.AuthenticateIntegration(context.Background(), store, tt.kind, key)
			if err != nil || k.Service != "checkout" || k.Actor() != string(tt.kind)+":alertmanager" {
				t.Fatalf("got %+v, %v; want the key of checkout", k, err)
			}
			other := auth.KindOpsgenie
			if tt.kind == auth.KindOpsgenie {
				other = auth.KindPagerDuty
			}
			if _, err := auth.AuthenticateIntegration(context.Background(), store, other, key); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("the key as a %s key: got %v, want ErrInvalidToken", other, err)
			}
			out, _, err = cli(t, "integration", "list", "--table", table, "--endpoint", ep)
			if err != nil || !strings.Contains(out, k.ID) || strings.Contains(out, strings.ReplaceAll(key, "-", "")) {
				t.Fatalf("list: got %q, %v; want the id and not the key", out, err)
			}
			if _, _, err := cli(t, "integration", "revoke", "--id", k.ID, "--table", table, "--endpoint", ep); err != nil {
				t.Fatalf("revoke: %v", err)
			}
			if _, err := auth.AuthenticateIntegration(context.Background(), store, tt.kind, key); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("revoked key: got %v, want ErrInvalidToken", err)
			}
		})
	}
	if _, _, err := cli(t, "integration", "create", "--service", "checkout", "--kind", "victorops", "--table", table, "--endpoint", ep); err == nil || !strings.Contains(err.Error(), "--kind") {
		t.Errorf("unknown kind: got %v, want an error naming --kind", err)
	}
	if out, _, err := cli(t, "integration", "--help"); err != nil || !strings.Contains(out, "integration create") {
		t.Errorf("--help: got %q, %v; want the usage and no error", out, err)
	}
}
