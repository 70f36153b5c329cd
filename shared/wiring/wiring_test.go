package wiring

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/oncall/oncalltest"
	"github.com/incidentd/incidentd/shared/settings"
	"github.com/incidentd/incidentd/shared/slack"
)

// Every folder under functions/ has its entry in Functions, and only those:
// the local invoke endpoint serves Functions.
func TestFunctionsAreTheFunctionsFolders(t *testing.T) {
	dirs, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, d := range dirs {
		if d.IsDir() {
			want = append(want, d.Name())
		}
	}
	for _, f := range Functions() {
		got = append(got, f.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Functions: got %v, want the folders of functions/ %v", got, want)
	}
}

type nopPager struct{}

func (nopPager) Page(context.Context, oncall.ResponderPage) error { return nil }

type nopExecutions struct{}

func (nopExecutions) Start(context.Context, string, []byte) error { return nil }

// What each constructor does when an adapter or its setting is missing, or
// the Slack secret is unreadable, as the functions' mains did before:
// escalate and stream refuse to start without their AWS resource, warroom
// without its secret; api and escalate go on without Slack and log why.
func TestConstructorsWithoutAdapters(t *testing.T) {
	unreadable := func(context.Context) (string, string, error) {
		return "", "", errors.New("AccessDeniedException")
	}
	paging := settings.Settings{PagingTopicARN: "arn:p"}
	machine := settings.Settings{StateMachineARN: "arn:s"}
	tests := []struct {
		name     string
		new      func(settings.Settings, Adapters) (any, error)
		give     settings.Settings
		adapters Adapters
		wantErr  string
		wantLog  string
	}{
		{name: "escalate without PAGING_TOPIC_ARN", new: handler(Escalate), adapters: Adapters{Pager: nopPager{}},
			wantErr: "PAGING_TOPIC_ARN is not set"},
		{name: "escalate without a pager", new: handler(Escalate), give: paging, wantErr: "PAGING_TOPIC_ARN is not set"},
		{name: "escalate with an unreadable secret", new: handler(Escalate), give: paging,
			adapters: Adapters{Pager: nopPager{}, SlackCredentials: unreadable}, wantLog: "Slack off: the Slack secret is unreadable"},
		{name: "stream without STATE_MACHINE_ARN", new: handler(Stream), adapters: Adapters{Executions: nopExecutions{}},
			wantErr: "STATE_MACHINE_ARN is not set"},
		{name: "stream without executions", new: handler(Stream), give: machine, wantErr: "STATE_MACHINE_ARN is not set"},
		{name: "warroom with an unreadable secret", new: handler(WarRoom), adapters: Adapters{SlackCredentials: unreadable}, wantErr: "AccessDeniedException"},
		{name: "api with an unreadable secret", new: handler(API), give: paging, adapters: Adapters{SlackCredentials: unreadable},
			wantLog: "Slack routes off: the Slack secret is unreadable"},
		{name: "api without PAGING_TOPIC_ARN", new: handler(API), adapters: Adapters{Subscriber: &oncalltest.Subscriber{}},
			wantLog: "PAGING_TOPIC_ARN is not set: PUT /users makes no PagingTopic subscriptions"},
		{name: "stream", new: handler(Stream), give: machine, adapters: Adapters{Executions: nopExecutions{}}},
		{name: "alarms", new: handler(Alarms)},
		{name: "logs", new: handler(Logs)},
		{name: "logs with a bad LOG_GROUP_SERVICES", new: handler(Logs), give: settings.Settings{LogGroupServices: "{"},
			wantErr: "LOG_GROUP_SERVICES: log group mapping is not a JSON object of strings: unexpected end of JSON input"},
		{name: "logs with a bad LOG_THRESHOLD", new: handler(Logs), give: settings.Settings{LogThreshold: "0"},
			wantErr: `LOG_THRESHOLD "0" is not a whole number between 1 and 100000`},
		{name: "escalate with acknowledge links", new: handler(Escalate), adapters: Adapters{Pager: nopPager{}},
			give: settings.Settings{PagingTopicARN: "arn:p", AckLinkKey: strings.Repeat("k", 32), PublicAPIURL: "https://x.example"}},
		{name: "escalate with an ack link key but no PUBLIC_API_URL", new: handler(Escalate), adapters: Adapters{Pager: nopPager{}},
			give: settings.Settings{PagingTopicARN: "arn:p", AckLinkKey: strings.Repeat("k", 32)}, wantLog: "PUBLIC_API_URL is not set"},
		{name: "escalate with a short ack link key", new: handler(Escalate), adapters: Adapters{Pager: nopPager{}},
			give: settings.Settings{PagingTopicARN: "arn:p", AckLinkKey: "short", PublicAPIURL: "https://x.example"}, wantLog: "at least 32 are needed"},
		{name: "web with an unreadable ack link key", new: handler(Web), give: settings.Settings{AckLinkSecretARN: "arn:s"},
			adapters: Adapters{AckLinkReader: func(context.Context, string) (string, error) { return "", errors.New("AccessDeniedException") }},
			wantLog:  "acknowledge links off: the ack link key is unreadable"},
		{name: "escalate does not read LOG_THRESHOLD", new: handler(Escalate),
			give: settings.Settings{PagingTopicARN: "arn:p", LogThreshold: "0", LogWindow: "10s", LogGroupServices: "{"}, adapters: Adapters{Pager: nopPager{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			a := tt.adapters
			a.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			if a.SlackCredentials == nil {
				a.SlackCredentials = func(context.Context) (string, string, error) { return "", "", nil }
			}
			a.Slack = func(string) slack.Messenger { return slack.NewRecorder(a.Logger) }
			s := tt.give
			s.Table, s.DefaultService = "t", "unassigned"
			_, err := tt.new(s, a)
			if got := errString(err); got != tt.wantErr {
				t.Errorf("error: got %q, want %q", got, tt.wantErr)
			}
			if tt.wantLog == "" && (strings.Contains(logs.String(), `"level":"WARN"`) || strings.Contains(logs.String(), `"level":"ERROR"`)) {
				t.Errorf("logs: got %s, want no warning or error", logs.String())
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("logs: got %s, want %q", logs.String(), tt.wantLog)
			}
		})
	}
}

func handler[H any](f func(settings.Settings, Adapters) (H, error)) func(settings.Settings, Adapters) (any, error) {
	return func(s settings.Settings, a Adapters) (any, error) { return f(s, a) }
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// The API's Slack routes follow the signing secret the credentials give.
func TestHTTPAPISlackRoutes(t *testing.T) {
	tests := []struct {
		name    string
		signing string
		want    int
	}{
		{"no signing secret: off", "", http.StatusNotFound},
		{"a signing secret: on (an unsigned request is refused)", "secret", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := HTTPAPI(settings.Settings{Table: "t", DefaultService: "unassigned"}, Adapters{
				SlackCredentials: func(context.Context) (string, string, error) { return "", tt.signing, nil },
				Logger:           slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader("text=help")))
			if rec.Code != tt.want {
				t.Errorf("POST /slack/commands: got %d, want %d", rec.Code, tt.want)
			}
		})
	}
}

// The AWS sets: the table and the logger, with Slack for the functions that
// use it; the mains add their own clients.
func TestAWSSets(t *testing.T) {
	l := settings.Lambda{AWS: aws.Config{Region: "eu-west-1"}, Logger: slog.New(slog.DiscardHandler)}
	tests := []struct {
		name      string
		give      Adapters
		wantSlack bool
	}{
		{"AWS", AWS(l), false},
		{"AWSWithSlack", AWSWithSlack(l, func(context.Context, string) (string, string, error) { return "", "", nil }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.give
			if a.DynamoDB == nil || a.Logger == nil {
				t.Errorf("got %+v, want DynamoDB and Logger set", a)
			}
			if got := a.SlackCredentials != nil && a.Slack != nil; got != tt.wantSlack {
				t.Errorf("Slack set: got %v, want %v", got, tt.wantSlack)
			}
			if a.Pager != nil || a.Subscriber != nil || a.Events != nil || a.Executions != nil || a.Tags != nil {
				t.Errorf("got %+v, want the functions' own clients left to their mains", a)
			}
		})
	}
}

// AWSWithSlack reads the Slack secret SLACK_SECRET_ARN names with the reader
// its main passes (in AWS: secrets.SlackReader).
func TestAWSWithSlackReadsTheSecret(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:EscalationSlackSecret-AbCdEf"
	l := settings.Lambda{Settings: settings.Settings{SlackSecretARN: arn}, AWS: aws.Config{Region: "eu-west-1"}, Logger: slog.New(slog.DiscardHandler)}
	var read []string
	a := AWSWithSlack(l, func(_ context.Context, got string) (string, string, error) {
		read = append(read, got)
		return "xoxb-from-secret", "signing", nil
	})
	token, secret, err := a.SlackCredentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if token != "xoxb-from-secret" || secret != "signing" || !slices.Equal(read, []string{arn}) {
		t.Errorf("got %q, %q after reading %q, want the secret's values after reading %q", token, secret, read, arn)
	}
}
