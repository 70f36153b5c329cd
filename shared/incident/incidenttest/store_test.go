package incidenttest_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// ids: A is open (version 3) under dedup key "k"; B is resolved and its dedup
// key "old" has expired; C is free.
var (
	idA = incident.NewID(t0)
	idB = incident.NewID(t0.Add(-time.Hour))
	idC = incident.NewID(t0.Add(time.Second))
)

func seeded(t *testing.T) *incidenttest.Store {
	t.Helper()
	st := incidenttest.New(func() time.Time { return t0 })
	ctx := context.Background()
	must := func(ch incident.Change) {
		t.Helper()
		if err := st.Apply(ctx, ch); err != nil {
			t.Fatalf("seed %s: %v", ch.Incident.ID, err)
		}
	}
	must(incident.Change{Kind: incident.Create,
		Incident:   incident.Incident{ID: idB, Status: incident.StatusResolved, Version: 1, CreatedAt: t0.Add(-time.Hour)},
		Dedup:      &incident.DedupRecord{Key: "old", IncidentID: idB, Claim: true, ExpiresAt: t0.Add(-time.Minute)},
		DeliveryID: "d-old", DeliveryExpires: t0.Add(-time.Second)})
	must(incident.Change{Kind: incident.Create,
		Incident:   incident.Incident{ID: idA, Status: incident.StatusTriggered, Version: 1, SignalCount: 1, CreatedAt: t0},
		Dedup:      &incident.DedupRecord{Key: "k", IncidentID: idA, Claim: true},
		DeliveryID: "d1", DeliveryExpires: t0.Add(time.Hour), Result: incident.Result{Outcome: incident.Opened, IncidentID: idA}})
	for v := int64(1); v < 3; v++ {
		must(incident.Change{Kind: incident.Update, ExpectVersion: v,
			Incident: incident.Incident{ID: idA, Status: incident.StatusTriggered, Version: v + 1, SignalCount: 1, CreatedAt: t0}})
	}
	return st
}

func TestApplyConditions(t *testing.T) {
	open := incident.Incident{ID: idA, Status: incident.StatusTriggered, Version: 4, SignalCount: 1, CreatedAt: t0}
	tests := []struct {
		name    string
		give    incident.Change
		wantErr error
	}{
		{name: "create", give: incident.Change{Kind: incident.Create, Incident: incident.Incident{ID: idC, Version: 1},
			Dedup: &incident.DedupRecord{Key: "new", IncidentID: idC, Claim: true}}},
		{name: "create an existing incident", give: incident.Change{Kind: incident.Create, Incident: incident.Incident{ID: idA, Version: 1}},
			wantErr: errkind.Conflict},
		{name: "claim a live key", give: incident.Change{Kind: incident.Create, Incident: incident.Incident{ID: idC, Version: 1},
			Dedup: &incident.DedupRecord{Key: "k", IncidentID: idC, Claim: true}}, wantErr: errkind.Conflict},
		{name: "claim a live key replacing another incident", give: incident.Change{Kind: incident.Create, Incident: incident.Incident{ID: idC},
			Dedup: &incident.DedupRecord{Key: "k", IncidentID: idC, Claim: true, Replaces: idB}}, wantErr: errkind.Conflict},
		{name: "claim a live key replacing its incident", give: incident.Change{Kind: incident.Create, Incident: incident.Incident{ID: idC},
			Dedup: &incident.DedupRecord{Key: "k", IncidentID: idC, Claim: true, Replaces: idA}}},
		{name: "claim an expired key", give: incident.Change{Kind: incident.Create, Incident: incident.Incident{ID: idC},
			Dedup: &incident.DedupRecord{Key: "old", IncidentID: idC, Claim: true}}},
		{name: "update at the read version", give: incident.Change{Kind: incident.Update, ExpectVersion: 3, Incident: open}},
		{name: "update at a stale version", give: incident.Change{Kind: incident.Update, ExpectVersion: 2, Incident: open},
			wantErr: errkind.Conflict},
		{name: "update of a missing incident", give: incident.Change{Kind: incident.Update, ExpectVersion: 1, Incident: incident.Incident{ID: idC}},
			wantErr: errkind.NotFound},
		{name: "update keeping its dedup key", give: incident.Change{Kind: incident.Update, ExpectVersion: 3, Incident: open,
			Dedup: &incident.DedupRecord{Key: "k", IncidentID: idA, ExpiresAt: t0.Add(time.Hour)}}},
		{name: "update with a key pointing elsewhere", give: incident.Change{Kind: incident.Update, ExpectVersion: 3, Incident: open,
			Dedup: &incident.DedupRecord{Key: "k", IncidentID: idB}}, wantErr: errkind.Conflict},
		{name: "update with an expired key", give: incident.Change{Kind: incident.Update, ExpectVersion: 3, Incident: open,
			Dedup: &incident.DedupRecord{Key: "old", IncidentID: idA}}, wantErr: errkind.Conflict},
		{name: "append at the read status", give: incident.Change{Kind: incident.Append, ExpectStatus: incident.StatusTriggered, Signals: 1,
			Incident: open}},
		{name: "append after a status change", give: incident.Change{Kind: incident.Append, ExpectStatus: incident.StatusAcknowledged, Signals: 1,
			Incident: open}, wantErr: errkind.Conflict},
		{name: "touch", give: incident.Change{Kind: incident.Touch, Incident: incident.Incident{ID: idA}}},
		{name: "touch a missing incident", give: incident.Change{Kind: incident.Touch, Incident: incident.Incident{ID: idC}},
			wantErr: errkind.NotFound},
		{name: "delivery seen", give: incident.Change{Kind: incident.Touch, Incident: incident.Incident{ID: idA}, DeliveryID: "d1"},
			wantErr: errkind.Duplicate},
		{name: "delivery expired", give: incident.Change{Kind: incident.Touch, Incident: incident.Incident{ID: idA}, DeliveryID: "d-old"}},
		{name: "no incident id", give: incident.Change{Kind: incident.Touch}, wantErr: errAny},
		{name: "unknown kind", give: incident.Change{Kind: 99, Incident: incident.Incident{ID: idA}}, wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := seeded(t)
			ctx := context.Background()
			before := snapshot(t, st)
			writes := st.Writes()
			err := st.Apply(ctx, tt.give)
			if !matches(err, tt.wantErr) {
				t.Fatalf("Apply: got error %v, want %v", err, tt.wantErr)
			}
			// A lost race is a plain error; only the domain's refusals are *errkind.Error.
			var ierr *errkind.Error
			if errors.As(err, &ierr) {
				t.Errorf("Apply: got an *errkind.Error %q, want a plain wrapped error", err)
			}
			// A refused change writes nothing, not even part of itself; an
			// applied one shows.
			wrote := st.Writes() != writes
			changed := !reflect.DeepEqual(snapshot(t, st), before)
			if want := tt.wantErr == nil; wrote != want || changed != want {
				t.Errorf("got written %v, state changed %v; want %v", wrote, changed, want)
			}
		})
	}
}

// errAny stands for "some error".
var errAny = errors.New("any error")

func matches(err, want error) bool {
	if want == errAny {
		return err != nil
	}
	return errors.Is(err, want)
}

type state struct {
	A, C  incident.Incident
	TL    []incident.Entry
	Keys  [2]incident.DedupRecord
	Deliv error
}

func snapshot(t *testing.T, st *incidenttest.Store) state {
	t.Helper()
	ctx := context.Background()
	var s state
	s.A, _ = st.Incident(ctx, idA)
	s.C, _ = st.Incident(ctx, idC)
	s.TL, _, _ = st.Timeline(ctx, idA, incident.TimelineLimit)
	s.Keys[0], _ = st.Dedup("k")
	s.Keys[1], _ = st.Dedup("old")
	_, s.Deliv = st.Delivery(ctx, "d-old")
	return s
}

func TestAppendAndTouch(t *testing.T) {
	st := seeded(t)
	ctx := context.Background()
	later := t0.Add(time.Minute)
	// An Append carries a stale copy: only the counters it owns are written.
	stale := incident.Incident{ID: idA, Title: "stale", Status: incident.StatusTriggered, Severity: incident.SEV1,
		LastSignalAt: later, UpdatedAt: later, Version: 1}
	if err := st.Apply(ctx, incident.Change{Kind: incident.Append, Incident: stale, ExpectStatus: incident.StatusTriggered, Signals: 2,
		Entries: []incident.Entry{{ID: "e1", At: later, Kind: incident.EntrySignal}}}); err != nil {
		t.Fatal(err)
	}
	inc, _ := st.Incident(ctx, idA)
	want := incident.Incident{ID: idA, Status: incident.StatusTriggered, SignalCount: 3, LastSignalAt: later, UpdatedAt: later,
		CreatedAt: t0, Version: 3} // an append does not bump the version
	if !reflect.DeepEqual(inc, want) {
		t.Errorf("after Append: got %+v, want %+v", inc, want)
	}
	if err := st.Apply(ctx, incident.Change{Kind: incident.Touch, Incident: stale,
		Entries: []incident.Entry{{ID: "e2", At: later, Kind: incident.EntryNote}}}); err != nil {
		t.Fatal(err)
	}
	inc, _ = st.Incident(ctx, idA)
	want.Version = 4
	if !reflect.DeepEqual(inc, want) {
		t.Errorf("after Touch: got %+v, want %+v", inc, want)
	}
	tl, _, _ := st.Timeline(ctx, idA, incident.TimelineLimit)
	if len(tl) != 2 || tl[0].ID != "e1" || tl[1].ID != "e2" {
		t.Errorf("timeline: got %+v, want e1, e2", tl)
	}
}

func TestExpiry(t *testing.T) {
	st := seeded(t)
	ctx := context.Background()
	if _, err := st.IncidentByDedupKey(ctx, "old"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("expired dedup key: got error %v, want %v", err, errkind.NotFound)
	}
	if inc, err := st.IncidentByDedupKey(ctx, "k"); err != nil || inc.ID != idA {
		t.Errorf("live dedup key: got %s, %v; want %s", inc.ID, err, idA)
	}
	if _, err := st.Delivery(ctx, "d-old"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("expired delivery: got error %v, want %v", err, errkind.NotFound)
	}
	want := incident.Result{Outcome: incident.Opened, IncidentID: idA}
	if got, err := st.Delivery(ctx, "d1"); err != nil || got != want {
		t.Errorf("live delivery: got %+v, %v; want %+v", got, err, want)
	}
	if _, err := st.Incident(ctx, idC); !errors.Is(err, errkind.NotFound) {
		t.Errorf("missing incident: got error %v, want %v", err, errkind.NotFound)
	}
}

func TestReadsAreCopies(t *testing.T) {
	st := seeded(t)
	ctx := context.Background()
	at := t0
	inc := incident.Incident{ID: idC, Version: 1, AcknowledgedAt: &at, Reporters: []incident.ReporterMark{{Reporter: "ann", At: t0}}}
	if err := st.Apply(ctx, incident.Change{Kind: incident.Create, Incident: inc}); err != nil {
		t.Fatal(err)
	}
	at = t0.Add(time.Hour)
	inc.Reporters[0].Reporter = "changed"
	got, _ := st.Incident(ctx, idC)
	got.Reporters[0].Reporter = "changed again"
	again, _ := st.Incident(ctx, idC)
	if !again.AcknowledgedAt.Equal(t0) || again.Reporters[0].Reporter != "ann" {
		t.Errorf("stored incident: got acknowledged %v, reporter %q; want %v, ann", again.AcknowledgedAt, again.Reporters[0].Reporter, t0)
	}
}

func TestServiceConfigsByName(t *testing.T) {
	st := incidenttest.New(nil)
	ctx := context.Background()
	for _, name := range []string{"search", "checkout", "payments"} {
		if err := st.PutServiceConfig(ctx, incident.ServiceConfig{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutServiceConfig(ctx, incident.ServiceConfig{Name: "checkout", AutoResolve: true}); err != nil {
		t.Fatal(err)
	}
	all, _ := st.ListServiceConfigs(ctx)
	var names []string
	for _, c := range all {
		names = append(names, c.Name)
	}
	if want := []string{"checkout", "payments", "search"}; !slices.Equal(names, want) {
		t.Errorf("ListServiceConfigs: got %v, want %v", names, want)
	}
	if c, err := st.ServiceConfig(ctx, "checkout"); err != nil || !c.AutoResolve {
		t.Errorf("ServiceConfig(checkout): got %+v, %v; want the replaced config", c, err)
	}
	if _, err := st.ServiceConfig(ctx, "nope"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("ServiceConfig(nope): got error %v, want %v", err, errkind.NotFound)
	}
}

// The in-memory store passes the contract the DynamoDB store passes.
func TestStoreContract(t *testing.T) {
	incidenttest.StoreContract(t, func(_ *testing.T, now func() time.Time) incident.Store {
		return incidenttest.New(now)
	})
}
