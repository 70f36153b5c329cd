package settings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/secrets"
	"github.com/incidentd/incidentd/shared/secrets/secretstest"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		give    map[string]string
		want    Settings
		wantErr string
	}{
		{
			name: "defaults",
			give: map[string]string{"TABLE_NAME": "t"},
			want: Settings{Table: "t", DefaultService: "unassigned", ReopenWindow: 30 * time.Minute, SuspectWindow: 4 * time.Hour, LogLevel: slog.LevelInfo},
		},
		{
			name: "everything set",
			give: map[string]string{"TABLE_NAME": "t", "DEFAULT_SERVICE": "platform", "REOPEN_WINDOW": "2h",
				"PUBLIC_REPORTS": "true", "LOG_LEVEL": "debug", "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
				"SLACK_BOT_TOKEN": " xoxb-1-2-abc\n", "SLACK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf",
				"FALLBACK_USER": " dave ", "WATCHDOG_GRACE": "90s", "PAGING_TOPIC_ARN": "arn:p", "INCIDENT_EVENTS_TOPIC_ARN": "arn:e", "STATE_MACHINE_ARN": "arn:s",
				"STAKEHOLDERS": " U1, ,U2,", "LOG_THRESHOLD": "20", "LOG_WINDOW": "15m", "LOG_GROUP_SERVICES": `{"/ecs/production/*": "shop"}`, "DORA_SUSPECT_WINDOW": "90m"},
			want: Settings{Table: "t", DefaultService: "platform", ReopenWindow: 2 * time.Hour, SuspectWindow: 90 * time.Minute, PublicReports: true, LogLevel: slog.LevelDebug,
				SlackSigningSecret: "8f742231b10e8888abcd99yyyzzz85a5", SlackBotToken: "xoxb-1-2-abc",
				SlackSecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf",
				FallbackUser:   "dave", WatchdogGrace: 90 * time.Second, PagingTopicARN: "arn:p", IncidentEventsTopicARN: "arn:e", StateMachineARN: "arn:s",
				Stakeholders: []string{"U1", "U2"}, LogThreshold: "20", LogWindow: "15m",
				LogGroupServices: `{"/ecs/production/*": "shop"}`},
		},
		{name: "no table", give: map[string]string{}, wantErr: "TABLE_NAME is not set"},
		{name: "bad default service", give: map[string]string{"TABLE_NAME": "t", "DEFAULT_SERVICE": "Not Valid"}, wantErr: `DEFAULT_SERVICE: service "Not Valid" is not a valid name (lower-case letters, digits, '.', '_', '-'; 1-63 characters)`},
		{name: "bad reopen window", give: map[string]string{"TABLE_NAME": "t", "REOPEN_WINDOW": "10s"}, wantErr: `REOPEN_WINDOW "10s" is not a duration between 1m and 168h`},
		{name: "bad suspect window", give: map[string]string{"TABLE_NAME": "t", "DORA_SUSPECT_WINDOW": "8d"}, wantErr: `DORA_SUSPECT_WINDOW "8d" is not a duration between 1m and 168h`},
		{name: "bad watchdog grace", give: map[string]string{"TABLE_NAME": "t", "WATCHDOG_GRACE": "2h"}, wantErr: `WATCHDOG_GRACE "2h" is not a duration between 1s and 1h`},
		{name: "bad public status", give: map[string]string{"TABLE_NAME": "t", "PUBLIC_STATUS": "yes"}, wantErr: `PUBLIC_STATUS "yes" is not true or false`},
		{name: "bad public reports", give: map[string]string{"TABLE_NAME": "t", "PUBLIC_REPORTS": "yes please"}, wantErr: `PUBLIC_REPORTS "yes please" is not true or false`},
		{name: "bad log level", give: map[string]string{"TABLE_NAME": "t", "LOG_LEVEL": "loud"}, wantErr: `LOG_LEVEL "loud" is not debug, info, warn or error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnv(func(k string) string { return tt.give[k] })
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error: got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if r := got.Rules(); r.DefaultService != tt.want.DefaultService || r.ReopenWindow != tt.want.ReopenWindow {
				t.Errorf("rules: got %+v, want the settings' default service and reopen window", r)
			}
		})
	}
}

// LOG_THRESHOLD and LOG_WINDOW are parsed when the logs function starts, so
// FromEnv takes any value (no other function fails on them).
func TestLogScan(t *testing.T) {
	tests := []struct {
		name          string
		give          map[string]string
		wantThreshold int
		wantWindow    time.Duration
		wantErr       string
	}{
		{name: "unset: the defaults", give: map[string]string{}},
		{name: "set", give: map[string]string{"LOG_THRESHOLD": "20", "LOG_WINDOW": "15m"}, wantThreshold: 20, wantWindow: 15 * time.Minute},
		{name: "log threshold zero", give: map[string]string{"LOG_THRESHOLD": "0"}, wantErr: `LOG_THRESHOLD "0" is not a whole number between 1 and 100000`},
		{name: "log threshold text", give: map[string]string{"LOG_THRESHOLD": "five"}, wantErr: `LOG_THRESHOLD "five" is not a whole number between 1 and 100000`},
		{name: "log window too short", give: map[string]string{"LOG_WINDOW": "10s"}, wantErr: `LOG_WINDOW "10s" is not a duration between 1m0s and 24h0m0s (e.g. 5m)`},
		{name: "log window not a duration", give: map[string]string{"LOG_WINDOW": "300"}, wantErr: `LOG_WINDOW "300" is not a duration between 1m0s and 24h0m0s (e.g. 5m)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.give["TABLE_NAME"] = "t"
			s, err := FromEnv(func(k string) string { return tt.give[k] })
			if err != nil {
				t.Fatalf("FromEnv: got %v, want no error (the logs function checks these)", err)
			}
			threshold, window, err := s.LogScan()
			if got := fmt.Sprint(err); tt.wantErr != "" && got != tt.wantErr || tt.wantErr == "" && err != nil {
				t.Fatalf("error: got %v, want %q", err, tt.wantErr)
			}
			if threshold != tt.wantThreshold || window != tt.wantWindow {
				t.Errorf("got %d, %s, want %d, %s", threshold, window, tt.wantThreshold, tt.wantWindow)
			}
		})
	}
}

func TestSlack(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:EscalationSlackSecret-AbCdEf"
	stored := map[string]string{arn: `{"bot_token":"xoxb-from-secret","signing_secret":"secret-from-secret"}`}
	tests := []struct {
		name       string
		env        map[string]string
		values     map[string]string // the secrets in Secrets Manager
		clientErr  error
		wantToken  string
		wantSecret string
		wantReads  []string
		wantErr    string
	}{
		{
			name:       "locally from the environment",
			env:        map[string]string{"SLACK_BOT_TOKEN": "xoxb-local", "SLACK_SIGNING_SECRET": "local-secret"},
			wantToken:  "xoxb-local",
			wantSecret: "local-secret",
		},
		{
			name:       "locally, signing secret only",
			env:        map[string]string{"SLACK_SIGNING_SECRET": "local-secret"},
			wantSecret: "local-secret",
		},
		{name: "locally without Slack", env: map[string]string{}},
		{
			name:       "in AWS from the secret",
			env:        map[string]string{"SLACK_SECRET_ARN": arn},
			values:     stored,
			wantToken:  "xoxb-from-secret",
			wantSecret: "secret-from-secret",
			wantReads:  []string{arn},
		},
		{
			name:       "the secret wins over the environment",
			env:        map[string]string{"SLACK_SECRET_ARN": arn, "SLACK_BOT_TOKEN": "xoxb-local", "SLACK_SIGNING_SECRET": "local-secret"},
			values:     stored,
			wantToken:  "xoxb-from-secret",
			wantSecret: "secret-from-secret",
			wantReads:  []string{arn},
		},
		{
			// As deployed: Slack stays off instead of the environment's token.
			name:       "secret with an empty token",
			env:        map[string]string{"SLACK_SECRET_ARN": arn, "SLACK_BOT_TOKEN": "xoxb-local"},
			values:     map[string]string{arn: `{"bot_token":"","signing_secret":"random"}`},
			wantSecret: "random",
			wantReads:  []string{arn},
		},
		{
			name:      "secret not JSON",
			env:       map[string]string{"SLACK_SECRET_ARN": arn},
			values:    map[string]string{arn: "xoxb-pasted-alone"},
			wantReads: []string{arn},
			wantErr:   "SLACK_SECRET_ARN: read Slack secret " + arn + `: not a JSON object {"bot_token","signing_secret"} of strings: invalid character 'x' looking for beginning of value`,
		},
		{
			name:      "secret unreadable",
			env:       map[string]string{"SLACK_SECRET_ARN": arn},
			clientErr: errors.New("AccessDeniedException"),
			wantReads: []string{arn},
			wantErr:   "SLACK_SECRET_ARN: read Slack secret " + arn + ": AccessDeniedException",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["TABLE_NAME"] = "t"
			s, err := FromEnv(func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			client := &secretstest.Client{Values: tt.values, Err: tt.clientErr}
			token, secret, err := s.Slack(context.Background(), secrets.SlackReader(client))
			if reads := client.Calls(); !slices.Equal(reads, tt.wantReads) {
				t.Errorf("secrets read: got %q, want %q", reads, tt.wantReads)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error: got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if token != tt.wantToken || secret != tt.wantSecret {
				t.Errorf("got token %q and signing secret %q, want %q and %q", token, secret, tt.wantToken, tt.wantSecret)
			}
		})
	}
}
