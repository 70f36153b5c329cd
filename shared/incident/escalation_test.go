package incident_test

import (
	"context"
	"errors"
	"testing"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

func declared(t *testing.T, e env) incident.Incident {
	t.Helper()
	inc, err := e.svc.Declare(context.Background(), incident.Declaration{Service: "checkout", Title: "Checkout is down", Severity: incident.SEV2, Actor: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func TestRecordPageOncePerKey(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	inc := declared(t, e)
	ctx := context.Background()
	rec := incident.PageRecord{Key: "page#" + inc.ID + "#1#alice", Responder: "alice", Level: 1, Actor: "escalation"}

	seen, err := e.svc.PageRecorded(ctx, rec.Key)
	if err != nil || seen {
		t.Fatalf("before: got %v, %v; want not recorded", seen, err)
	}
	en, err := e.svc.RecordPage(ctx, inc.ID, rec)
	if err != nil {
		t.Fatal(err)
	}
	if en.Kind != incident.EntryPaged || en.Text != "paged alice (level 1)" || en.Ref != "alice" {
		t.Errorf("entry: got %+v, want paged alice (level 1)", en)
	}
	if seen, err := e.svc.PageRecorded(ctx, rec.Key); err != nil || !seen {
		t.Errorf("after: got %v, %v; want recorded", seen, err)
	}
	if _, err := e.svc.RecordPage(ctx, inc.ID, rec); !errors.Is(err, errkind.Duplicate) {
		t.Errorf("again: got %v, want errkind.Duplicate", err)
	}
	fb := incident.PageRecord{Key: "page#" + inc.ID + "#fallback#ops", Responder: "ops", Repeat: 1, Actor: "escalation"}
	if en, err := e.svc.RecordPage(ctx, inc.ID, fb); err != nil || en.Text != "paged ops (fallback, repeat 1)" {
		t.Errorf("fallback: got %q, %v", en.Text, err)
	}
	_, tl := e.get(t, inc.ID)
	if n := count(tl, incident.EntryPaged); n != 2 {
		t.Errorf("paged entries: got %d, want 2", n)
	}
	if _, err := e.svc.RecordPage(ctx, "01jzzzzzzzzzzzzzzzzzzzzzzz", incident.PageRecord{Key: "k", Responder: "a", Actor: "x"}); !errors.Is(err, errkind.NotFound) {
		t.Errorf("unknown incident: got %v, want errkind.NotFound", err)
	}
}

func TestSetWarRoomKeepsTheFirst(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	inc := declared(t, e)
	ctx := context.Background()
	got, err := e.svc.SetWarRoom(ctx, inc.ID, "escalation", "C1", "inc-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.WarRoomChannel != "C1" || got.Version != inc.Version+1 {
		t.Errorf("got channel %q version %d, want C1 at version %d", got.WarRoomChannel, got.Version, inc.Version+1)
	}
	again, err := e.svc.SetWarRoom(ctx, inc.ID, "escalation", "C2", "inc-2")
	if err != nil {
		t.Fatal(err)
	}
	if again.WarRoomChannel != "C1" {
		t.Errorf("second war room: got %q, want the first, C1", again.WarRoomChannel)
	}
	_, tl := e.get(t, inc.ID)
	if n := count(tl, incident.EntryWarRoomOpened); n != 1 {
		t.Errorf("war_room_opened entries: got %d, want 1", n)
	}
	if _, err := e.svc.SetWarRoom(ctx, inc.ID, "escalation", "", "x"); !errors.Is(err, errkind.Invalid) {
		t.Errorf("no channel id: got %v, want errkind.Invalid", err)
	}
}

func TestRecordWarRoomFailure(t *testing.T) {
	e := newEnv(t, incident.Rules{})
	inc := declared(t, e)
	en, err := e.svc.RecordWarRoomFailure(context.Background(), inc.ID, "escalation", "create channel: slack is down")
	if err != nil {
		t.Fatal(err)
	}
	_, tl := e.get(t, inc.ID)
	if n := count(tl, incident.EntryWarRoomFailed); n != 1 || en.Text != "create channel: slack is down" {
		t.Errorf("got %d war_room_failed entries, text %q", n, en.Text)
	}
}
