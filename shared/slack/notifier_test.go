package slack_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/slack"
)

// Notifier sends the messages the package renders: each of its calls is the
// Messenger call with the message built by the matching function.
func TestNotifierRendersAndSends(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	inc := incident.Incident{
		ID: "01kkc0r8r0v8jpwcaajhtjk24r", Service: "checkout", Title: "5xx", Severity: incident.SEV2,
		Status: incident.StatusAcknowledged, CreatedAt: at,
	}
	ack := incident.Entry{ID: "e1", Kind: incident.EntryAcknowledged, Actor: "alice", At: at}
	ctx := context.Background()
	rec := slack.NewRecorder(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	n := slack.NewNotifier(rec)

	page, err := n.PostPage(ctx, inc, 2, "U0ALICE")
	if err != nil {
		t.Fatal(err)
	}
	want := incident.SlackPage{IncidentID: inc.ID, Channel: "D0ALICE", TS: page.TS, SlackUserID: "U0ALICE", Level: 2}
	if page.TS == "" || page != want {
		t.Errorf("posted page: got %+v, want %+v with a ts", page, want)
	}
	if err := n.ClosePage(ctx, inc, page, ack); err != nil {
		t.Fatal(err)
	}
	id, name, err := n.OpenChannel(ctx, inc)
	if err != nil {
		t.Fatal(err)
	}
	if name != slack.ChannelName(at, inc.ID, inc.Service) || id == "" {
		t.Errorf("channel: got %q %q, want an id and %q", id, name, slack.ChannelName(at, inc.ID, inc.Service))
	}
	for _, err := range []error{
		n.SetTopic(ctx, id, inc), n.Invite(ctx, id, []string{"U0BOB"}),
		n.PostSummary(ctx, id, inc), n.PostEntry(ctx, id, inc, ack),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}

	pageMsg := slack.PageMessage(inc, slack.Page{Level: 2, SlackUserIDs: []string{"U0ALICE"}})
	closedMsg := slack.PageClosedMessage(inc, slack.Page{Level: 2, SlackUserIDs: []string{"U0ALICE"}}, ack)
	summary, entryMsg := slack.SummaryMessage(inc), slack.EntryMessage(inc, ack)
	wantCalls := []slack.Call{
		{Method: "chat.postMessage", Channel: "U0ALICE", TS: page.TS, Message: &pageMsg},
		{Method: "chat.update", Channel: "D0ALICE", TS: page.TS, Message: &closedMsg},
		{Method: "conversations.create", Channel: id, Name: name},
		{Method: "conversations.setTopic", Channel: id, Topic: slack.Topic(inc)},
		{Method: "conversations.invite", Channel: id, Users: []string{"U0BOB"}},
		{Method: "chat.postMessage", Channel: id, Message: &summary},
		{Method: "chat.postMessage", Channel: id, Message: &entryMsg},
	}
	got := rec.Calls()
	if len(got) != len(wantCalls) {
		t.Fatalf("got %d calls, want %d: %+v", len(got), len(wantCalls), got)
	}
	for i, w := range wantCalls {
		g := got[i]
		if w.TS == "" {
			g.TS = "" // the war room's posts: their ts is the Recorder's
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("call %d: got %+v, want %+v", i, g, w)
		}
	}
}

// A Slack error code a retry gets again is permanent; a rate limit, Slack's
// own failure and an HTTP error without a code are not.
func TestAPIErrorPermanent(t *testing.T) {
	tests := []struct {
		give *slack.APIError
		want bool
	}{
		{&slack.APIError{Code: "channel_not_found"}, true},
		{&slack.APIError{Code: "invalid_auth"}, true},
		{&slack.APIError{Code: "ratelimited"}, false},
		{&slack.APIError{Code: "internal_error"}, false},
		{&slack.APIError{Status: 502}, false},
	}
	for _, tt := range tests {
		if got := tt.give.Permanent(); got != tt.want {
			t.Errorf("%v: got permanent %v, want %v", tt.give, got, tt.want)
		}
		if got := tt.give.ErrorCode(); got != tt.give.Code {
			t.Errorf("%v: got code %q, want %q", tt.give, got, tt.give.Code)
		}
	}
}
