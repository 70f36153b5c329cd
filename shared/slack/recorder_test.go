package slack

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/incidentd/incidentd/shared/incident"
)

// TestRecorderWarRoom runs what the warroom function will do against the
// local sink: every call is one JSON log line and is kept for tests.
func TestRecorderWarRoom(t *testing.T) {
	var out bytes.Buffer
	r := NewRecorder(slog.New(slog.NewJSONHandler(&out, nil)))
	ctx := context.Background()
	inc := testIncident(incident.StatusTriggered)
	name := ChannelName(inc.CreatedAt, inc.ID, inc.Service)

	first, err := r.CreateChannel(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.CreateChannel(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if first.Name != name || second.Name != name+"-2" || first.ID == second.ID {
		t.Fatalf("got channels %+v and %+v, want %s and %s-2 with distinct ids", first, second, name, name)
	}
	if err := r.SetTopic(ctx, first.ID, Topic(inc)); err != nil {
		t.Fatal(err)
	}
	if err := r.Invite(ctx, first.ID, []string{"U1", "U2"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Invite(ctx, first.ID, []string{"U2", "U3"}); err != nil {
		t.Fatalf("got %v, want inviting a member to be no error", err)
	}
	ts, err := r.PostMessage(ctx, first.ID, SummaryMessage(inc))
	if err != nil || ts == "" {
		t.Fatalf("got ts %q, err %v", ts, err)
	}

	if got := r.Members(first.ID); !slices.Equal(got, []string{"U1", "U2", "U3"}) {
		t.Fatalf("got members %v, want [U1 U2 U3]", got)
	}
	msgs := r.Messages()
	if len(msgs) != 1 || msgs[0].Channel != first.ID || msgs[0].TS != ts || msgs[0].Message.Text != SummaryMessage(inc).Text {
		t.Fatalf("got messages %+v", msgs)
	}

	// One JSON line per call, the message's blocks as JSON, not a string.
	var lines []map[string]any
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("got a line that is not JSON: %s", sc.Text())
		}
		lines = append(lines, m)
	}
	if len(lines) != len(r.Calls()) || len(lines) != 6 {
		t.Fatalf("got %d lines for %d calls, want 6", len(lines), len(r.Calls()))
	}
	post := lines[5]
	if post["method"] != "chat.postMessage" || post["channel"] != first.ID || post["text"] == nil {
		t.Fatalf("got %v", post)
	}
	if _, ok := post["blocks"].([]any); !ok {
		t.Fatalf("got blocks %T, want a JSON array", post["blocks"])
	}
}

func TestRecorderFail(t *testing.T) {
	r := NewRecorder(slog.New(slog.DiscardHandler))
	ctx := context.Background()
	down := errors.New("slack is down")
	r.Fail(down)
	if _, err := r.PostMessage(ctx, "C1", Message{Text: "page"}); !errors.Is(err, down) {
		t.Fatalf("got %v, want %v", err, down)
	}
	if _, err := r.CreateChannel(ctx, "inc-1"); !errors.Is(err, down) {
		t.Fatalf("got %v, want %v", err, down)
	}
	if len(r.Messages()) != 0 || len(r.Calls()) != 2 || r.Calls()[0].Err != "slack is down" {
		t.Fatalf("got calls %+v, want two failed calls and no messages", r.Calls())
	}
	r.Fail(nil)
	ch, err := r.CreateChannel(ctx, "inc-1")
	if err != nil || ch.Name != "inc-1" {
		t.Fatalf("got %+v, %v, want inc-1 created once Slack is back", ch, err)
	}
}
