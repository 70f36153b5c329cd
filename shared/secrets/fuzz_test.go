package secrets_test

import (
	"context"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/secrets"
	"github.com/incidentd/incidentd/shared/secrets/secretstest"
)

// FuzzLoadSlack checks any secret value gives Slack settings or an error,
// never a panic, and that an error never repeats a token.
func FuzzLoadSlack(f *testing.F) {
	for _, seed := range []string{
		`{"bot_token":"xoxb-1-2-abc","signing_secret":"8f742231b10e8888abcd99yyyzzz85a5"}`,
		`{"bot_token":"","signing_secret":"Zk3Q9rXw0LmNpTuV7yB2cD4eF6gH8iJ1"}`,
		`{}`, `null`, `[]`, `"xoxb"`, `{"bot_token":1}`, ``, `{"bot_token":"xoxb-1",}`, `xoxb-1-2-abc`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		client := &secretstest.Client{Values: map[string]string{arn: value}}
		got, err := secrets.LoadSlack(context.Background(), client, arn)
		if err != nil {
			// The seeds carry xoxb- tokens; the ARN and messages never do.
			if strings.Contains(value, "xoxb-") && strings.Contains(err.Error(), "xoxb-") {
				t.Errorf("error %q repeats the secret's token", err)
			}
			return
		}
		if got.BotToken != strings.TrimSpace(got.BotToken) {
			t.Errorf("bot token %q: got surrounding space, want it trimmed", got.BotToken)
		}
	})
}
