package escalation_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
	"github.com/incidentd/incidentd/shared/slack"
)

// failOnce fails the first call of one Slack method, as a Slack hiccup (or a
// Lambda timeout) between creating the channel and finishing its setup would.
type failOnce struct {
	*slack.Recorder
	method string
	failed bool
}

func (f *failOnce) fail(method string) error {
	if method == f.method && !f.failed {
		f.failed = true
		return errors.New("slack hiccup in " + method)
	}
	return nil
}

func (f *failOnce) SetTopic(ctx context.Context, channel, topic string) error {
	if err := f.fail("conversations.setTopic"); err != nil {
		return err
	}
	return f.Recorder.SetTopic(ctx, channel, topic)
}

func (f *failOnce) PostMessage(ctx context.Context, channel string, msg slack.Message) (string, error) {
	if err := f.fail("chat.postMessage"); err != nil {
		return "", err
	}
	return f.Recorder.PostMessage(ctx, channel, msg)
}

func TestWarRoomRetryFinishesAPartialSetup(t *testing.T) {
	tests := []struct {
		name   string
		failAt string
	}{
		{name: "topic failed", failAt: "conversations.setTopic"},
		{name: "summary failed", failAt: "chat.postMessage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			inc := e.declare(t)
			flaky := &failOnce{Recorder: e.slack, method: tt.failAt}
			room := escalation.NewWarRoom(escalation.WarRoomConfig{
				Incidents: e.svc, Directory: e.dir, Slack: slack.NewNotifier(flaky), Stakeholders: []string{"U0BOSS"},
				Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return now },
			})
			state := oncall.Start(policy("primary"), nil)
			in := escalation.WarRoomInput{IncidentID: inc.ID, State: &state}
			first, err := room.Open(context.Background(), in)
			if err == nil {
				t.Fatal("first try: got nil, want the Slack error")
			}
			again, err := room.Open(context.Background(), in)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if again.ChannelID != first.ChannelID || again.ChannelID == "" {
				t.Errorf("retry: got channel %q, want the first one %q", again.ChannelID, first.ChannelID)
			}
			count := map[string]int{}
			for _, c := range e.slack.Calls() {
				count[c.Method]++
			}
			// Topic and invitations are idempotent and may be set again; the
			// channel and the summary are not.
			if count["conversations.create"] != 1 || count["chat.postMessage"] != 1 || count["conversations.setTopic"] == 0 {
				t.Errorf("slack calls: got %v, want one channel, a topic and one summary", count)
			}
			if got, want := e.slack.Members(again.ChannelID), []string{"U0ALICE", "U0BOSS"}; !slices.Equal(got, want) {
				t.Errorf("members: got %v, want %v", got, want)
			}
			ready, err := e.svc.WarRoomReady(context.Background(), inc.ID)
			if err != nil || !ready {
				t.Errorf("ready: got %v, %v; want true", ready, err)
			}

			// Once ready, a third run (a reopened incident's escalation) leaves it alone.
			before := len(e.slack.Calls())
			if _, err := room.Open(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			if n := len(e.slack.Calls()) - before; n != 0 {
				t.Errorf("third run: got %d Slack calls, want none", n)
			}
			_, tl, _, err := e.svc.Get(context.Background(), inc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if n := countKind(tl, incident.EntryWarRoomFailed); n != 1 {
				t.Errorf("war_room_failed entries: got %d, want the first try's 1", n)
			}
		})
	}
}
