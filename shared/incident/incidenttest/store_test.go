package incidenttest_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
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
		CreatedAt: t0, Version: 4}
	if !reflect.DeepEqual(inc, want) {
		t.Errorf("after Append: got %+v, want %+v", inc, want)
	}
	if err := st.Apply(ctx, incident.Change{Kind: incident.Touch, Incident: stale,
		Entries: []incident.Entry{{ID: "e2", At: later, Kind: incident.EntryNote}}}); err != nil {
		t.Fatal(err)
	}
	inc, _ = st.Incident(ctx, idA)
	want.Version = 5
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

func TestIncidentsPages(t *testing.T) {
	st := incidenttest.New(nil)
	ctx := context.Background()
	var want []string
	for i := range 12 {
		// Pairs share a creation time, so the id breaks the tie.
		at := t0.Add(time.Duration(i/2) * time.Minute)
		id := incident.NewID(at)
		service := []string{"checkout", "payments"}[i%2]
		status := []incident.Status{incident.StatusTriggered, incident.StatusResolved, incident.StatusAcknowledged}[i%3]
		if err := st.Apply(ctx, incident.Change{Kind: incident.Create,
			Incident: incident.Incident{ID: id, Service: service, Status: status, CreatedAt: at, Version: 1}}); err != nil {
			t.Fatal(err)
		}
		want = append([]string{fmt.Sprintf("%s %s %s", id, service, status)}, want...)
	}
	tests := []struct {
		name string
		give incident.Query
		keep func(service string, status incident.Status) bool
	}{
		{name: "all", give: incident.Query{Limit: 5}, keep: func(string, incident.Status) bool { return true }},
		{name: "open", give: incident.Query{Status: "open", Limit: 3}, keep: func(_ string, s incident.Status) bool { return s.Open() }},
		{name: "resolved", give: incident.Query{Status: "resolved", Limit: 1},
			keep: func(_ string, s incident.Status) bool { return s == incident.StatusResolved }},
		{name: "service", give: incident.Query{Service: "payments", Limit: 4}, keep: func(svc string, _ incident.Status) bool { return svc == "payments" }},
		{name: "one page", give: incident.Query{}, keep: func(string, incident.Status) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wantHere []string
			for _, w := range want {
				var id, svc string
				var status incident.Status
				fmt.Sscan(w, &id, &svc, &status)
				if tt.keep(svc, status) {
					wantHere = append(wantHere, w)
				}
			}
			var got []string
			q := tt.give
			for range 20 {
				page, err := st.Incidents(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if limit := cmp.Or(q.Limit, 25); len(page.Items) > limit {
					t.Errorf("page: got %d items, want at most %d", len(page.Items), limit)
				}
				for _, inc := range page.Items {
					got = append(got, fmt.Sprintf("%s %s %s", inc.ID, inc.Service, inc.Status))
				}
				if page.NextCursor == "" {
					break
				}
				q.Cursor = page.NextCursor
			}
			if !slices.Equal(got, wantHere) {
				t.Errorf("pages: got %v, want %v", got, wantHere)
			}
		})
	}
	for _, c := range []string{"nope", "bm9wZQ", "%%"} {
		if _, err := st.Incidents(ctx, incident.Query{Cursor: c}); !errors.Is(err, errkind.Invalid) {
			t.Errorf("cursor %q: got error %v, want %v", c, err, errkind.Invalid)
		}
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

func TestApplyIsAtomicUnderContention(t *testing.T) {
	// Many writers race to claim one key: exactly one wins.
	st := incidenttest.New(nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	wins := make(chan string, 50)
	for i := range 50 {
		wg.Go(func() {
			id := incident.NewID(t0.Add(time.Duration(i) * time.Millisecond))
			err := st.Apply(ctx, incident.Change{Kind: incident.Create, Incident: incident.Incident{ID: id, Version: 1},
				Dedup: &incident.DedupRecord{Key: "k", IncidentID: id, Claim: true}})
			if err == nil {
				wins <- id
			}
		})
	}
	wg.Wait()
	close(wins)
	if n := len(wins); n != 1 {
		t.Fatalf("winners: got %d, want 1", n)
	}
	if page, _ := st.Incidents(ctx, incident.Query{}); len(page.Items) != 1 {
		t.Errorf("incidents: got %d, want 1", len(page.Items))
	}
}

// A timeline longer than the limit gives its first entry and the newest limit,
// oldest first, as the DynamoDB store does.
func TestTimelineKeepsFirstAndNewest(t *testing.T) {
	tests := []struct {
		name          string
		entries       int
		limit         int
		want          []string
		wantTruncated bool
	}{
		{"shorter than the limit", 3, 5, []string{"e0", "e1", "e2"}, false},
		{"limit and the first", 4, 3, []string{"e0", "e1", "e2", "e3"}, false},
		{"longer", 7, 3, []string{"e0", "e4", "e5", "e6"}, true},
		{"limit 1", 7, 1, []string{"e0", "e6"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := seeded(t)
			ctx := context.Background()
			for i := range tt.entries {
				e := incident.Entry{ID: fmt.Sprintf("e%d", i), At: t0.Add(time.Duration(i) * time.Second), Kind: incident.EntryNote}
				if err := st.Apply(ctx, incident.Change{Kind: incident.Touch, Incident: incident.Incident{ID: idA}, Entries: []incident.Entry{e}}); err != nil {
					t.Fatal(err)
				}
			}
			tl, truncated, err := st.Timeline(ctx, idA, tt.limit)
			var got []string
			for _, e := range tl {
				got = append(got, e.ID)
			}
			if err != nil || !slices.Equal(got, tt.want) || truncated != tt.wantTruncated {
				t.Errorf("got %v, truncated %v, %v; want %v, truncated %v", got, truncated, err, tt.want, tt.wantTruncated)
			}
		})
	}
	if _, _, err := seeded(t).Timeline(context.Background(), idA, 0); err == nil {
		t.Error("limit 0: got no error, want one")
	}
}
