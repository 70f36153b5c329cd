package settings

import (
	"log/slog"
	"testing"
	"time"
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
			want: Settings{Table: "t", DefaultService: "unassigned", ReopenWindow: 30 * time.Minute, LogLevel: slog.LevelInfo},
		},
		{
			name: "everything set",
			give: map[string]string{"TABLE_NAME": "t", "DEFAULT_SERVICE": "platform", "REOPEN_WINDOW": "2h",
				"PUBLIC_REPORTS": "true", "LOG_LEVEL": "debug", "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5"},
			want: Settings{Table: "t", DefaultService: "platform", ReopenWindow: 2 * time.Hour, PublicReports: true, LogLevel: slog.LevelDebug,
				SlackSigningSecret: "8f742231b10e8888abcd99yyyzzz85a5"},
		},
		{name: "no table", give: map[string]string{}, wantErr: "TABLE_NAME is not set"},
		{name: "bad default service", give: map[string]string{"TABLE_NAME": "t", "DEFAULT_SERVICE": "Not Valid"}, wantErr: `DEFAULT_SERVICE: service "Not Valid" is not a valid name (lower-case letters, digits, '.', '_', '-'; 1-63 characters)`},
		{name: "bad reopen window", give: map[string]string{"TABLE_NAME": "t", "REOPEN_WINDOW": "10s"}, wantErr: `REOPEN_WINDOW "10s" is not a duration between 1m and 168h`},
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
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if r := got.Rules(); r.DefaultService != tt.want.DefaultService || r.ReopenWindow != tt.want.ReopenWindow {
				t.Errorf("rules: got %+v, want the settings' default service and reopen window", r)
			}
		})
	}
}
