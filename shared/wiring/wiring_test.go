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

// What each constructor does when an adapter is missing or the Slack secret
// is unreadable, as the functions' mains did before: escalate and stream
// refuse to start without their AWS resource, warroom without its secret;
// api and escalate go on without Slack and log why.
func TestConstructorsWithoutAdapters(t *testing.T) {
	unreadable := func(context.Context) (string, string, error) {
		return "", "", errors.New("AccessDeniedException")
	}
	tests := []struct {
		name     string
		new      func(settings.Settings, Adapters) (any, error)
		adapters Adapters
		wantErr  string
		wantLog  string
	}{
		{name: "escalate without a pager", new: handler(Escalate), wantErr: "PAGING_TOPIC_ARN is not set"},
		{name: "escalate with an unreadable secret", new: handler(Escalate), adapters: Adapters{Pager: nopPager{}, SlackCredentials: unreadable},
			wantLog: "Slack off: the Slack secret is unreadable"},
		{name: "stream without executions", new: handler(Stream), wantErr: "STATE_MACHINE_ARN is not set"},
		{name: "warroom with an unreadable secret", new: handler(WarRoom), adapters: Adapters{SlackCredentials: unreadable}, wantErr: "AccessDeniedException"},
		{name: "api with an unreadable secret", new: handler(API), adapters: Adapters{SlackCredentials: unreadable, Subscriber: nil},
			wantLog: "Slack routes off: the Slack secret is unreadable"},
		{name: "api without a subscriber", new: handler(API), adapters: Adapters{},
			wantLog: "PAGING_TOPIC_ARN is not set: PUT /users makes no PagingTopic subscriptions"},
		{name: "stream", new: handler(Stream), adapters: Adapters{Executions: nopExecutions{}}},
		{name: "alarms", new: handler(Alarms)},
		{name: "logs", new: handler(Logs)},
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
			_, err := tt.new(settings.Settings{Table: "t", DefaultService: "unassigned"}, a)
			if got := errString(err); got != tt.wantErr {
				t.Errorf("error: got %q, want %q", got, tt.wantErr)
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

// Each function's AWS set holds the clients that function uses, and a pager,
// subscriptions, events and executions exactly when their AWS resource is
// named.
func TestAWSSetFollowsTheSettings(t *testing.T) {
	none := settings.Settings{}
	every := settings.Settings{PagingTopicARN: "arn:p", IncidentEventsTopicARN: "arn:e", StateMachineARN: "arn:s"}
	tests := []struct {
		name string
		set  func(settings.Lambda) Adapters
		give settings.Settings
		want string
	}{
		{"alarms", AlarmsAWS, every, "dynamodb tags"},
		{"logs", LogsAWS, every, "dynamodb"},
		{"api", APIAWS, every, "dynamodb subscriber slack-credentials"},
		{"api without a paging topic", APIAWS, none, "dynamodb slack-credentials"},
		{"escalate", EscalateAWS, every, "dynamodb pager slack-credentials slack"},
		{"escalate without a paging topic", EscalateAWS, none, "dynamodb slack-credentials slack"},
		{"warroom", WarRoomAWS, every, "dynamodb slack-credentials slack"},
		{"stream", StreamAWS, every, "dynamodb events executions slack-credentials slack"},
		{"stream without ARNs", StreamAWS, none, "dynamodb slack-credentials slack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.set(settings.Lambda{Settings: tt.give, AWS: aws.Config{Region: "eu-west-1"}, Logger: slog.New(slog.DiscardHandler)})
			var set []string
			for _, f := range []struct {
				name string
				ok   bool
			}{
				{"dynamodb", a.DynamoDB != nil}, {"tags", a.Tags != nil}, {"pager", a.Pager != nil},
				{"subscriber", a.Subscriber != nil}, {"events", a.Events != nil}, {"executions", a.Executions != nil},
				{"slack-credentials", a.SlackCredentials != nil}, {"slack", a.Slack != nil},
			} {
				if f.ok {
					set = append(set, f.name)
				}
			}
			if got := strings.Join(set, " "); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if a.Logger == nil {
				t.Error("no logger")
			}
		})
	}
}
