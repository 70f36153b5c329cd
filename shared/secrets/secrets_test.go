package secrets_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/secrets"
	"github.com/incidentd/incidentd/shared/secrets/secretstest"
)

const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:EscalationSlackSecret-AbCdEf"

func TestLoadSlack(t *testing.T) {
	tests := []struct {
		name    string
		give    string // the secret's string value
		want    secrets.Slack
		wantErr string
	}{
		{
			name: "both set",
			give: `{"bot_token":"xoxb-1-2-abc","signing_secret":"8f742231b10e8888abcd99yyyzzz85a5"}`,
			want: secrets.Slack{BotToken: "xoxb-1-2-abc", SigningSecret: "8f742231b10e8888abcd99yyyzzz85a5"},
		},
		{
			// What the stack creates: Slack off until an operator sets the token.
			name: "as deployed",
			give: `{"bot_token":"","signing_secret":"Zk3Q9rXw0LmNpTuV7yB2cD4eF6gH8iJ1"}`,
			want: secrets.Slack{SigningSecret: "Zk3Q9rXw0LmNpTuV7yB2cD4eF6gH8iJ1"},
		},
		{name: "empty object is Slack off", give: `{}`, want: secrets.Slack{}},
		{name: "bot token only", give: `{"bot_token":"xoxb-1"}`, want: secrets.Slack{BotToken: "xoxb-1"}},
		{
			name: "token trimmed, signing secret exact, notes ignored",
			give: `{"bot_token":" xoxb-1\n","signing_secret":" s ","note":"rotated 2026-01-05"}`,
			want: secrets.Slack{BotToken: "xoxb-1", SigningSecret: " s "},
		},
		{name: "not JSON", give: `xoxb-1-2-abc`, wantErr: `read Slack secret ` + arn + `: not a JSON object {"bot_token","signing_secret"} of strings`},
		{name: "JSON array", give: `["xoxb-1"]`, wantErr: `read Slack secret ` + arn + `: not a JSON object`},
		{name: "token not a string", give: `{"bot_token":42}`, wantErr: `read Slack secret ` + arn + `: not a JSON object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &secretstest.Client{Values: map[string]string{arn: tt.give}}
			got, err := secrets.LoadSlack(context.Background(), client, arn)
			if calls := client.Calls(); !slices.Equal(calls, []string{arn}) {
				t.Errorf("secrets read: got %q, want [%q]", calls, arn)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error: got %v, want one starting %q", err, tt.wantErr)
				}
				// The error is logged at cold start: it must not leak the value.
				if strings.Contains(err.Error(), "xoxb") {
					t.Errorf("error %q shows the secret's value", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLoadSlackErrors(t *testing.T) {
	denied := errors.New("AccessDeniedException: not authorized to perform secretsmanager:GetSecretValue")
	tests := []struct {
		name    string
		client  *secretstest.Client
		arn     string
		wantErr string
		wantIs  error
	}{
		{name: "access denied", client: &secretstest.Client{Err: denied}, arn: arn,
			wantErr: "read Slack secret " + arn + ": " + denied.Error(), wantIs: denied},
		{name: "no such secret", client: &secretstest.Client{}, arn: arn,
			wantErr: "read Slack secret " + arn + ": ResourceNotFoundException: Secrets Manager can't find the specified secret"},
		{name: "binary secret", client: &secretstest.Client{Binary: map[string][]byte{arn: []byte(`{"bot_token":"x"}`)}}, arn: arn,
			wantErr: "read Slack secret " + arn + ": no string value (binary secrets are not supported)"},
		{name: "no ARN", client: &secretstest.Client{}, arn: " ", wantErr: "read Slack secret: no secret ARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := secrets.LoadSlack(context.Background(), tt.client, tt.arn)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error: got %v, want %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v): got false, want true", err, tt.wantIs)
			}
		})
	}
}

// TestLoadGitHub: the GitHub webhook's secret is a key of the platform's one
// secret, beside the Slack app's values; absent, the webhook is off.
func TestLoadGitHub(t *testing.T) {
	for _, tt := range []struct{ value, want string }{
		{`{"bot_token":"xoxb-1","signing_secret":"s","github_webhook_secret":"g1"}`, "g1"},
		{`{"bot_token":"","signing_secret":"s"}`, ""},
	} {
		c := &secretstest.Client{Values: map[string]string{arn: tt.value}}
		got, err := secrets.LoadGitHub(context.Background(), c, arn)
		if err != nil || got.WebhookSecret != tt.want {
			t.Errorf("LoadGitHub(%s) = %q, %v; want %q", tt.value, got.WebhookSecret, err, tt.want)
		}
	}
}

func TestLoadAckLink(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    string
		wantErr string
	}{
		{"set beside the Slack values", `{"bot_token":"xoxb-1","signing_secret":"s","ack_link_key":"k3y-0123456789abcdef0123456789abcdef"}`, "k3y-0123456789abcdef0123456789abcdef", ""},
		{"as deployed: absent, links off", `{"bot_token":"","signing_secret":"s"}`, "", ""},
		{"not JSON", `k3y-0123`, "", `read ack link secret ` + arn + `: not a JSON object {"ack_link_key": ...}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &secretstest.Client{Values: map[string]string{arn: tt.give}}
			got, err := secrets.AckLinkReader(client)(context.Background(), arn)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "k3y") {
					t.Fatalf("error: got %v, want one starting %q that does not show the value", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q %v, want %q", got, err, tt.want)
			}
		})
	}
}
