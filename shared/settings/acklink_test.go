package settings

import (
	"context"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/secrets"
	"github.com/incidentd/incidentd/shared/secrets/secretstest"
)

func TestAckLinks(t *testing.T) {
	tests := []struct {
		name    string
		give    map[string]string
		wantURL string
		wantTTL time.Duration
		wantErr string
	}{
		{"defaults", map[string]string{"PUBLIC_API_URL": "https://abc.execute-api.eu-west-1.amazonaws.com/"}, "https://abc.execute-api.eu-west-1.amazonaws.com", 0, ""},
		{"custom domain and TTL", map[string]string{"PUBLIC_API_URL": " https://incidents.example.com ", "ACK_LINK_TTL": "12h"}, "https://incidents.example.com", 12 * time.Hour, ""},
		{"no URL", map[string]string{}, "", 0, "PUBLIC_API_URL is not set"},
		{"not a URL", map[string]string{"PUBLIC_API_URL": "incidents.example.com"}, "", 0, `PUBLIC_API_URL "incidents.example.com" is not an http(s) URL such as https://abc123.execute-api.eu-west-1.amazonaws.com`},
		{"TTL too short", map[string]string{"PUBLIC_API_URL": "https://x.example", "ACK_LINK_TTL": "1m"}, "", 0, `ACK_LINK_TTL "1m" is not a duration between 5m0s and 168h0m0s (e.g. 24h)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.give["TABLE_NAME"] = "t"
			s, err := FromEnv(func(k string) string { return tt.give[k] })
			if err != nil {
				t.Fatal(err)
			}
			u, ttl, err := s.AckLinks()
			if gotErr := errString(err); gotErr != tt.wantErr || u != tt.wantURL || ttl != tt.wantTTL {
				t.Errorf("got %q %s %q, want %q %s %q", u, ttl, gotErr, tt.wantURL, tt.wantTTL, tt.wantErr)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// In AWS the key comes from the secret (ACK_LINK_SECRET_ARN), which wins
// over ACK_LINK_KEY; locally from ACK_LINK_KEY.
func TestAckLinkSecret(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf"
	client := &secretstest.Client{Values: map[string]string{arn: `{"ack_link_key":"from-the-secret"}`}}
	tests := []struct {
		name string
		give Settings
		want string
	}{
		{"secret", Settings{AckLinkSecretARN: arn, AckLinkKey: "from-env"}, "from-the-secret"},
		{"local", Settings{AckLinkKey: "from-env"}, "from-env"},
		{"off", Settings{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.give.AckLinkSecret(context.Background(), secrets.AckLinkReader(client))
			if err != nil || got != tt.want {
				t.Errorf("got %q %v, want %q", got, err, tt.want)
			}
		})
	}
}
