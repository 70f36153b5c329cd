package escalation_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

func TestWarRoomOpens(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	state := oncall.Start(policy("primary", "secondary"), nil)
	out, err := e.room.Open(context.Background(), escalation.WarRoomInput{IncidentID: inc.ID, State: &state})
	if err != nil {
		t.Fatal(err)
	}
	if out.ChannelID == "" || !strings.HasPrefix(out.ChannelName, "inc-") || !strings.HasSuffix(out.ChannelName, "-checkout") {
		t.Errorf("got %+v, want an inc-…-checkout channel", out)
	}
	if got, want := e.slack.Members(out.ChannelID), []string{"U0ALICE", "U0BOSS"}; !slices.Equal(got, want) {
		t.Errorf("members: got %v, want level 1's on-call and the stakeholder %v", got, want)
	}
	var methods []string
	for _, c := range e.slack.Calls() {
		methods = append(methods, c.Method)
	}
	if want := []string{"conversations.create", "conversations.setTopic", "conversations.invite", "chat.postMessage"}; !slices.Equal(methods, want) {
		t.Errorf("slack calls: got %v, want %v", methods, want)
	}
	got, tl, _, err := e.svc.Get(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.WarRoomChannel != out.ChannelID {
		t.Errorf("incident war room: got %q, want %q", got.WarRoomChannel, out.ChannelID)
	}
	if n := countKind(tl, incident.EntryWarRoomOpened); n != 1 {
		t.Errorf("war_room_opened entries: got %d, want 1", n)
	}

	// A retried task gets the same channel back and creates none.
	again, err := e.room.Open(context.Background(), escalation.WarRoomInput{IncidentID: inc.ID, State: &state})
	if err != nil {
		t.Fatal(err)
	}
	if again != out {
		t.Errorf("retry: got %+v, want %+v", again, out)
	}
	if n := len(e.slack.Calls()); n != 4 {
		t.Errorf("retry: got %d Slack calls in all, want the first 4 only", n)
	}
}

// The state machine opens the war room after the first page, with the state
// that page left (its step the next level): level 1's on-call people are
// invited still.
func TestWarRoomInvitesTheFirstStepAfterThePage(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	state := oncall.Start(policy("primary", "secondary"), nil)
	state.Step = oncall.Step{Phase: oncall.PhaseLevel, Level: 2}
	out, err := e.room.Open(context.Background(), escalation.WarRoomInput{IncidentID: inc.ID, State: &state})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.slack.Members(out.ChannelID), []string{"U0ALICE", "U0BOSS"}; !slices.Equal(got, want) {
		t.Errorf("members: got %v, want level 1's on-call and the stakeholder %v", got, want)
	}
}

func TestWarRoomSlackFailureRecorded(t *testing.T) {
	e := newEnv(t)
	inc := e.declare(t)
	e.slack.Fail(errors.New("slack is down"))
	if _, err := e.room.Open(context.Background(), escalation.WarRoomInput{IncidentID: inc.ID}); err == nil {
		t.Fatal("got nil, want the Slack error (the state machine catches it)")
	}
	got, tl, _, err := e.svc.Get(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.WarRoomChannel != "" {
		t.Errorf("war room: got %q, want none", got.WarRoomChannel)
	}
	var failed []string
	for _, en := range tl {
		if en.Kind == incident.EntryWarRoomFailed {
			failed = append(failed, en.Text)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0], "slack is down") {
		t.Errorf("war_room_failed entries: got %q, want one with the error", failed)
	}

	// Paging is not held up by it.
	out := page(t, e, escalation.Input{IncidentID: inc.ID, State: oncall.Start(policy("primary"), nil)})
	if len(out.Paged) != 1 {
		t.Errorf("paged: got %+v, want alice", out.Paged)
	}
}

func TestWarRoomUnknownIncident(t *testing.T) {
	e := newEnv(t)
	out, err := e.room.Open(context.Background(), escalation.WarRoomInput{IncidentID: "01jzzzzzzzzzzzzzzzzzzzzzzz"})
	if err != nil || out.ChannelID != "" || out.Reason == "" {
		t.Errorf("got %+v, %v; want no channel, a reason and no error", out, err)
	}
	if n := len(e.slack.Calls()); n != 0 {
		t.Errorf("got %d Slack calls, want none", n)
	}
}

func countKind(tl []incident.Entry, k incident.EntryKind) int {
	n := 0
	for _, e := range tl {
		if e.Kind == k {
			n++
		}
	}
	return n
}
