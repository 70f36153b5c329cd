package incidenttest

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/clock/clocktest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// StoreContract runs the tests every incident.Store must pass, written once
// and run against each store: the bounds of a timeline, paging through
// incidents (by status and service, with a limit and a cursor), and writes
// racing one another (duplicate signals converge on one incident, concurrent
// transitions and notes lose nothing, one dedup key has one owner).
//
// newStore returns a fresh, empty store that reads the time from now, as its
// expiring dedup and delivery records need; each test asks for its own.
//
// Run it from each store's tests:
//
//	func TestStoreContract(t *testing.T) {
//		incidenttest.StoreContract(t, func(t *testing.T, now func() time.Time) incident.Store {
//			return incidenttest.New(now)
//		})
//	}
func StoreContract(t *testing.T, newStore func(t *testing.T, now func() time.Time) incident.Store) {
	c := contract{newStore: newStore}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"TimelineKeepsFirstAndNewest", c.timelineKeepsFirstAndNewest},
		{"TimelineRejectsLimitBelowOne", c.timelineRejectsLimitBelowOne},
		{"IncidentsPageNewestFirst", c.incidentsPageNewestFirst},
		{"IncidentsPageThroughEveryFilter", c.incidentsPageThroughEveryFilter},
		{"IncidentsRefuseABadCursor", c.incidentsRefuseABadCursor},
		{"OpenCursorSurvivesItsIncidentResolving", c.openCursorSurvivesItsIncidentResolving},
		{"ConcurrentClaimsOfOneKeyHaveOneWinner", c.concurrentClaimsOfOneKey},
		{"ConcurrentDuplicateSignalsOpenOneIncident", c.concurrentDuplicateSignals},
		{"RedeliveredSignalAppliesOnce", c.redeliveredSignalAppliesOnce},
		{"LateCopyOfAJoinIsADuplicate", c.lateCopyOfAJoinIsADuplicate},
		{"DecisionRedeliveredToAWarmInstanceCountsOnce", c.decisionRedeliveredToAWarmInstance},
		{"ConcurrentTransitionsAndNotes", c.concurrentTransitionsAndNotes},
		{"ConcurrentReportsJoinAndRaiseOnce", c.concurrentReportsJoinAndRaiseOnce},
		{"PeopleDoNotWaitForAppends", c.peopleDoNotWaitForAppends},
		{"WarRoomFindsItsIncident", c.warRoomFindsItsIncident},
		{"ConcurrentPostmortemUpdatesKeepEveryField", c.concurrentPostmortemUpdates},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

type contract struct {
	newStore func(t *testing.T, now func() time.Time) incident.Store
}

// t0 is the time of the incidents the contract writes directly.
var t0 = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

// service returns a service over a fresh store; the store and the service
// read the same clock.
func (c contract) service(t *testing.T, now func() time.Time) (*incident.Service, incident.Store) {
	store := c.newStore(t, now)
	return incident.NewService(store, incident.Rules{}, incident.WithClock(now)), store
}

// WriteTimeline creates an incident with n timeline entries e000, e001, … one
// second apart, the first of kind opened, each with text of size bytes (at
// least its id), and returns its id. It writes in batches a DynamoDB
// transaction holds.
func WriteTimeline(t testing.TB, store incident.Store, n, size int) string {
	t.Helper()
	ctx := context.Background()
	inc := incident.Incident{ID: incident.NewID(t0), Service: "checkout", Title: "checkout 5xx above 2%", Severity: incident.SEV2,
		Status: incident.StatusTriggered, Source: incident.SourceLog, CreatedAt: t0, UpdatedAt: t0, Version: 1}
	var entries []incident.Entry
	for i := range n {
		id := fmt.Sprintf("e%03d", i)
		e := incident.Entry{ID: id, At: t0.Add(time.Duration(i) * time.Second), Kind: incident.EntrySignal,
			Actor: "log:checkout", Text: id + strings.Repeat("x", max(size-len(id), 0))}
		if i == 0 {
			e.Kind = incident.EntryOpened
		}
		entries = append(entries, e)
	}
	// A transaction holds 100 writes; small batches also keep big entries
	// under its 4 MB.
	batch := min(90, max(1, 3_000_000/max(size, 1)))
	if n == 0 {
		if err := store.Apply(ctx, incident.Change{Kind: incident.Create, Incident: inc}); err != nil {
			t.Fatalf("create incident: %v", err)
		}
	}
	for i := 0; i < len(entries); i += batch {
		ch := incident.Change{Kind: incident.Touch, Incident: inc, Entries: entries[i:min(i+batch, len(entries))]}
		if i == 0 {
			ch.Kind = incident.Create
		}
		if err := store.Apply(ctx, ch); err != nil {
			t.Fatalf("write entries %d…: %v", i, err)
		}
	}
	return inc.ID
}

// span returns the entry ids e<from> to e<to> of WriteTimeline.
func span(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("e%03d", i))
	}
	return out
}

// A long timeline comes back as its first entry and its newest entries,
// oldest first, flagged as truncated.
func (c contract) timelineKeepsFirstAndNewest(t *testing.T) {
	tests := []struct {
		name          string
		entries       int
		limit         int
		want          []string
		wantTruncated bool
	}{
		{"empty", 0, 3, []string{}, false},
		{"shorter than the limit", 3, 5, span(0, 2), false},
		{"exactly the limit", 5, 5, span(0, 4), false},
		{"the limit and the first", 6, 5, span(0, 5), false},
		{"the limit and the first, limit 3", 4, 3, span(0, 3), false},
		{"one left out", 7, 5, append(span(0, 0), span(2, 6)...), true},
		{"some left out, limit 3", 7, 3, append(span(0, 0), span(4, 6)...), true},
		{"many left out", 40, 5, append(span(0, 0), span(35, 39)...), true},
		{"limit 1", 10, 1, []string{"e000", "e009"}, true},
		{"limit 1 of 7", 7, 1, []string{"e000", "e006"}, true},
		{"the platform's limit", incident.TimelineLimit + 3, incident.TimelineLimit,
			append(span(0, 0), span(3, incident.TimelineLimit+2)...), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := c.newStore(t, time.Now)
			id := WriteTimeline(t, store, tt.entries, 0)
			tl, truncated, err := store.Timeline(context.Background(), id, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, 0, len(tl))
			for _, e := range tl {
				got = append(got, e.ID)
			}
			if !slices.Equal(got, tt.want) || truncated != tt.wantTruncated {
				t.Errorf("got %v (%d entries), truncated %v; want %v (%d), truncated %v", got, len(got), truncated, tt.want, len(tt.want), tt.wantTruncated)
			}
			if len(tl) > 0 && tl[0].Kind != incident.EntryOpened {
				t.Errorf("got first entry %s of kind %s, want the opened entry", tl[0].ID, tl[0].Kind)
			}
		})
	}
}

func (c contract) timelineRejectsLimitBelowOne(t *testing.T) {
	store := c.newStore(t, time.Now)
	ids := map[string]string{"an incident": WriteTimeline(t, store, 3, 0), "a missing incident": incident.NewID(t0)}
	for name, id := range ids {
		for _, limit := range []int{0, -1} {
			if _, _, err := store.Timeline(context.Background(), id, limit); err == nil {
				t.Errorf("%s, limit %d: got no error, want one", name, limit)
			}
		}
	}
}

// Incidents written directly list newest first, by creation time and then id,
// in pages of at most the limit (25 without one).
func (c contract) incidentsPageNewestFirst(t *testing.T) {
	st := c.newStore(t, time.Now)
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
}

// SeedIncidents declares 30 incidents a second apart on two services: every
// third resolved, every third acknowledged, the rest triggered. It returns
// them newest first.
func SeedIncidents(t *testing.T, svc *incident.Service, clk *clocktest.Clock) []incident.Incident {
	t.Helper()
	ctx := context.Background()
	var all []incident.Incident
	for i := range 30 {
		clk.Advance(time.Second)
		service := []string{"web", "db"}[i%2]
		inc, err := svc.Declare(ctx, incident.Declaration{Service: service, Title: fmt.Sprintf("incident %02d", i), Actor: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		switch i % 3 {
		case 0:
			inc, err = svc.Resolve(ctx, inc.ID, "alice", incident.Resolution{})
		case 1:
			inc, err = svc.Acknowledge(ctx, inc.ID, "alice")
		}
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, inc)
	}
	slices.Reverse(all)
	return all
}

// newClock returns a clock at the current second.
func newClock() *clocktest.Clock { return clocktest.New(time.Now().UTC().Truncate(time.Second)) }

// IDs returns the ids of incs, in order.
func IDs(incs []incident.Incident) []string {
	out := make([]string, 0, len(incs))
	for _, inc := range incs {
		out = append(out, inc.ID)
	}
	return out
}

// Every filter pages through all its incidents in full pages, newest first.
func (c contract) incidentsPageThroughEveryFilter(t *testing.T) {
	clk := newClock()
	svc, _ := c.service(t, clk.Now)
	all := SeedIncidents(t, svc, clk)
	ctx := context.Background()

	tests := []struct {
		status, service string
		wantCount       int
	}{
		{status: "", wantCount: 30},
		{status: "open", wantCount: 20},
		{status: "triggered", wantCount: 10},
		{status: "acknowledged", wantCount: 10},
		{status: "resolved", wantCount: 10},
		{service: "web", wantCount: 15},
		{service: "db", status: "open", wantCount: 10},
		{service: "web", status: "resolved", wantCount: 5},
		{service: "db", status: "triggered", wantCount: 5},
		{service: "nobody", wantCount: 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("status=%s,service=%s", tt.status, tt.service), func(t *testing.T) {
			var want []string
			for _, inc := range all {
				if (tt.service == "" || inc.Service == tt.service) &&
					(tt.status == "" || string(inc.Status) == tt.status || tt.status == "open" && inc.Status.Open()) {
					want = append(want, inc.ID)
				}
			}
			if len(want) != tt.wantCount {
				t.Fatalf("the seed has %d matches, the test expects %d", len(want), tt.wantCount)
			}
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatalf("still paging after %d pages", pages)
				}
				page, err := svc.List(ctx, incident.Query{Status: tt.status, Service: tt.service, Limit: 7, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Items) > 7 {
					t.Fatalf("got a page of %d, want at most 7", len(page.Items))
				}
				if page.NextCursor != "" && len(page.Items) < 7 {
					t.Errorf("got a short page of %d with a cursor, want full pages until the end", len(page.Items))
				}
				got = append(got, IDs(page.Items)...)
				if page.NextCursor == "" {
					break
				}
				cursor = page.NextCursor
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %d incidents %v,\nwant %d newest first %v", len(got), got, len(want), want)
			}
		})
	}
}

// A cursor that is not one the store gave out is errkind.Invalid. (What else
// a store refuses depends on what its cursors hold: see its own tests.)
func (c contract) incidentsRefuseABadCursor(t *testing.T) {
	clk := newClock()
	svc, store := c.service(t, clk.Now)
	SeedIncidents(t, svc, clk)
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name   string
		cursor string
	}{
		{name: "not base64", cursor: "!!not a cursor!!"},
		{name: "percent signs", cursor: "%%"},
		{name: "a word", cursor: "nope"},
		{name: "base64 of a word", cursor: "bm9wZQ"},
		{name: "not JSON", cursor: enc("hello")},
		{name: "empty object", cursor: enc("{}")},
		{name: "too long", cursor: strings.Repeat("A", 5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := store.Incidents(context.Background(), incident.Query{Cursor: tt.cursor}); !errors.Is(err, errkind.Invalid) {
				t.Errorf("got error %v, want %v", err, errkind.Invalid)
			}
		})
	}
}

// A responder resolves an incident while someone pages through the open ones:
// the next page still continues after it.
func (c contract) openCursorSurvivesItsIncidentResolving(t *testing.T) {
	clk := newClock()
	svc, _ := c.service(t, clk.Now)
	all := SeedIncidents(t, svc, clk)
	ctx := context.Background()
	first, err := svc.List(ctx, incident.Query{Status: "open", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	last := first.Items[len(first.Items)-1]
	if _, err := svc.Resolve(ctx, last.ID, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	next, err := svc.List(ctx, incident.Query{Status: "open", Limit: 5, Cursor: first.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, inc := range all {
		if inc.Status.Open() && inc.CreatedAt.Before(last.CreatedAt) {
			want = append(want, inc.ID)
		}
	}
	if got := IDs(next.Items); !slices.Equal(got, want[:5]) {
		t.Errorf("got %v, want %v", got, want[:5])
	}
}

// Many writers race to claim one dedup key: exactly one wins.
func (c contract) concurrentClaimsOfOneKey(t *testing.T) {
	st := c.newStore(t, time.Now)
	ctx := context.Background()
	var wg sync.WaitGroup
	wins := make(chan string, 50)
	losses := make(chan error, 50)
	for i := range 50 {
		wg.Go(func() {
			at := t0.Add(time.Duration(i) * time.Millisecond)
			id := incident.NewID(at)
			inc := incident.Incident{ID: id, Service: "checkout", Status: incident.StatusTriggered, CreatedAt: at, Version: 1}
			err := st.Apply(ctx, incident.Change{Kind: incident.Create, Incident: inc,
				Dedup: &incident.DedupRecord{Key: "k", IncidentID: id, Claim: true}})
			if err == nil {
				wins <- id
			} else {
				losses <- err
			}
		})
	}
	wg.Wait()
	close(wins)
	close(losses)
	// A loser lost the race (a conflict), not the store (throttling, an outage).
	for err := range losses {
		if !errors.Is(err, errkind.Conflict) {
			t.Errorf("a losing claim: got %v, want errkind.Conflict", err)
		}
	}
	if n := len(wins); n != 1 {
		t.Fatalf("winners: got %d, want 1", n)
	}
	if page, _ := st.Incidents(ctx, incident.Query{}); len(page.Items) != 1 {
		t.Errorf("incidents: got %d, want 1", len(page.Items))
	}
}

// Alarm is a trigger of the CloudWatch alarm name for service, as the alarms
// function makes one (the store tests' signal).
func Alarm(service, name string) incident.Signal {
	return incident.Signal{
		Source: incident.SourceAlarm, Kind: incident.Trigger, Service: service,
		DedupKey: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + name,
		Title:    name + " in ALARM", Actor: "alarm:" + name,
	}
}

// CountKinds counts timeline entries by kind.
func CountKinds(tl []incident.Entry) map[incident.EntryKind]int {
	n := map[incident.EntryKind]int{}
	for _, e := range tl {
		n[e.Kind]++
	}
	return n
}

// Two hundred deliveries of one alarm at once must converge on one incident
// that counts every one of them.
func (c contract) concurrentDuplicateSignals(t *testing.T) {
	svc, store := c.service(t, time.Now)
	ctx := context.Background()
	const n = 200
	results := make([]incident.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			sig := Alarm("checkout", "checkout-5xx")
			sig.DeliveryID = fmt.Sprintf("sns-message-%03d", i)
			results[i], errs[i] = svc.Ingest(ctx, sig)
		})
	}
	wg.Wait()
	t.Logf("%d concurrent signals took %s", n, time.Since(start))
	CatchUp(t, svc, store)

	outcomes := map[incident.Outcome]int{}
	ids := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("signal %d: %v", i, errs[i])
		}
		outcomes[results[i].Outcome]++
		ids[results[i].IncidentID] = true
	}
	if outcomes[incident.Opened] != 1 || outcomes[incident.Appended] != n-1 {
		t.Errorf("got outcomes %v, want 1 opened and %d appended", outcomes, n-1)
	}
	if len(ids) != 1 {
		t.Errorf("got signals on %d incidents, want 1", len(ids))
	}

	page, err := store.Incidents(ctx, incident.Query{Service: "checkout", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("got %d incidents for checkout, want 1", len(page.Items))
	}
	inc := page.Items[0]
	if inc.SignalCount != n {
		t.Errorf("got signal_count %d, want %d", inc.SignalCount, n)
	}
	// Appends leave the version to the decisions (incident.Append).
	if want := int64(1); inc.Version != want {
		t.Errorf("got version %d, want %d (appends do not bump it)", inc.Version, want)
	}
	tl, _, err := store.Timeline(ctx, inc.ID, incident.TimelineLimit)
	if err != nil {
		t.Fatal(err)
	}
	kinds := CountKinds(tl)
	if kinds[incident.EntryOpened] != 1 || kinds[incident.EntrySignal] != n-1 || len(tl) != n {
		t.Errorf("got timeline %v (%d entries), want 1 opened and %d signal", kinds, len(tl), n-1)
	}
}

// One delivery redelivered, one after the other and all at once, changes the
// incident once; the repeats say they were duplicates.
func (c contract) redeliveredSignalAppliesOnce(t *testing.T) {
	tests := []struct {
		name       string
		concurrent bool
	}{
		{name: "sequential"},
		{name: "concurrent", concurrent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, store := c.service(t, time.Now)
			ctx := context.Background()
			sig := Alarm("payments", "payments-latency")
			sig.DeliveryID = "eventbridge-0f1e2d3c"
			const n = 5
			results := make([]incident.Result, n)
			errs := make([]error, n)
			ingest := func(i int) { results[i], errs[i] = svc.Ingest(ctx, sig) }
			if tt.concurrent {
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() { ingest(i) })
				}
				wg.Wait()
			} else {
				for i := range n {
					ingest(i)
				}
			}
			fresh := 0
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("delivery %d: %v", i, errs[i])
				}
				if results[i].Outcome != incident.Opened {
					t.Errorf("delivery %d: got outcome %q, want %q (the first result)", i, results[i].Outcome, incident.Opened)
				}
				if !results[i].Duplicate {
					fresh++
				}
			}
			if fresh != 1 {
				t.Errorf("got %d results not marked duplicate, want 1", fresh)
			}
			page, err := store.Incidents(ctx, incident.Query{Service: "payments"})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 1 {
				t.Fatalf("got %d incidents, want 1", len(page.Items))
			}
			if got := page.Items[0].SignalCount; got != 1 {
				t.Errorf("got signal_count %d, want 1", got)
			}
			tl, _, err := store.Timeline(ctx, page.Items[0].ID, incident.TimelineLimit)
			if err != nil {
				t.Fatal(err)
			}
			if kinds := CountKinds(tl); kinds[incident.EntryOpened] != 1 || len(tl) != 1 {
				t.Errorf("got timeline %v, want one opened entry", kinds)
			}
		})
	}
}

// Responders working one incident at once: every note lands, every transition
// and patch is applied on top of the others, no write is lost.
func (c contract) concurrentTransitionsAndNotes(t *testing.T) {
	svc, _ := c.service(t, time.Now)
	ctx := context.Background()
	res, err := svc.Ingest(ctx, Alarm("search", "search-cpu"))
	if err != nil {
		t.Fatal(err)
	}
	id := res.IncidentID

	const notes = 40
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range notes {
		wg.Go(func() {
			if _, err := svc.AddNote(ctx, id, fmt.Sprintf("responder-%d", i%4), fmt.Sprintf("note %02d", i)); err != nil {
				errs <- fmt.Errorf("note %d: %w", i, err)
			}
		})
	}
	wg.Go(func() {
		if _, err := svc.Acknowledge(ctx, id, "alice"); err != nil {
			errs <- fmt.Errorf("acknowledge: %w", err)
		}
	})
	wg.Go(func() {
		if _, err := svc.Identify(ctx, id, "bob", "a runaway reindex job"); err != nil {
			errs <- fmt.Errorf("identify: %w", err)
		}
	})
	sevs := []incident.Severity{incident.SEV1, incident.SEV2, incident.SEV1, incident.SEV2}
	for i, sev := range sevs {
		wg.Go(func() {
			if _, err := svc.Update(ctx, id, "carol", incident.Patch{Severity: &sev}); err != nil {
				errs <- fmt.Errorf("severity %d: %w", i, err)
			}
		})
	}
	for i := range 4 {
		wg.Go(func() {
			title := fmt.Sprintf("search CPU saturated (%d)", i)
			if _, err := svc.Update(ctx, id, "dave", incident.Patch{Title: &title}); err != nil {
				errs <- fmt.Errorf("title %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	inc, tl, _, err := svc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != incident.StatusIdentified {
		t.Errorf("got status %q, want %q", inc.Status, incident.StatusIdentified)
	}
	if inc.AcknowledgedAt == nil || inc.IdentifiedAt == nil {
		t.Errorf("got acknowledged_at %v, identified_at %v, want both set", inc.AcknowledgedAt, inc.IdentifiedAt)
	}
	seen := map[string]bool{}
	for _, e := range tl {
		if e.Kind == incident.EntryNote {
			seen[e.Text] = true
		}
	}
	for i := range notes {
		if text := fmt.Sprintf("note %02d", i); !seen[text] {
			t.Errorf("note %q is missing from the timeline", text)
		}
	}
	kinds := CountKinds(tl)
	// Every write bumps the version by one: opened (1), each entry-writing
	// change once. Acknowledge and identify may be one entry each; a patch to
	// the value it already has writes nothing.
	changes := kinds[incident.EntryNote] + kinds[incident.EntryAcknowledged] + kinds[incident.EntryIdentified] +
		kinds[incident.EntrySeverityChanged] + kinds[incident.EntryTitleChanged]
	if want := int64(1 + changes); inc.Version != want {
		t.Errorf("got version %d, want %d (1 + %d changes in the timeline)", inc.Version, want, changes)
	}
	// Identify acknowledges too: when it lands first, acknowledging is a no-op.
	if kinds[incident.EntryAcknowledged] > 1 || kinds[incident.EntryIdentified] != 1 {
		t.Errorf("got %d acknowledged and %d identified entries, want at most 1 and 1", kinds[incident.EntryAcknowledged], kinds[incident.EntryIdentified])
	}
	if kinds[incident.EntryTitleChanged] < 1 || kinds[incident.EntrySeverityChanged] < 1 {
		t.Errorf("got %d title and %d severity changes, want at least 1 each", kinds[incident.EntryTitleChanged], kinds[incident.EntrySeverityChanged])
	}
	if last := lastOf(tl, incident.EntrySeverityChanged); last == nil || !endsWith(last.Text, inc.Severity) {
		t.Errorf("got severity %s, want the last severity change's (%v)", inc.Severity, last)
	}
}

func lastOf(tl []incident.Entry, kind incident.EntryKind) *incident.Entry {
	var last *incident.Entry
	for i := range tl {
		if tl[i].Kind == kind {
			last = &tl[i]
		}
	}
	return last
}

// endsWith reports whether a severity change "SEV3 → SEV1 by carol" moved to sev.
func endsWith(text string, sev incident.Severity) bool {
	var from, to, by, actor string
	n, _ := fmt.Sscanf(text, "%s → %s %s %s", &from, &to, &by, &actor)
	return n == 4 && to == string(sev)
}

// Reports on one service from many reporters at once (each sent twice with
// its Idempotency-Key) all join one incident, counted once each; the
// threshold of distinct reporters raises it exactly once.
func (c contract) concurrentReportsJoinAndRaiseOnce(t *testing.T) {
	svc, _ := c.service(t, time.Now)
	ctx := context.Background()
	const n, reporters = 60, 12
	// An anonymous report opens it: no reporter marked yet, the first mark
	// is appended to none.
	if _, err := svc.Report(ctx, incident.ReportInput{Service: "checkout", Summary: "checkout is down"}); err != nil {
		t.Fatal(err)
	}
	results := make([]incident.Result, 2*n)
	errs := make([]error, 2*n)
	var wg sync.WaitGroup
	for i := range 2 * n {
		wg.Go(func() {
			results[i], errs[i] = svc.Report(ctx, incident.ReportInput{
				Service: "checkout", Summary: fmt.Sprintf("checkout fails (%d)", i%n),
				ReporterEmail: fmt.Sprintf("r%02d@example.com", i%n%reporters),
				DeliveryID:    fmt.Sprintf("api:report:k-%03d", i%n), Fingerprint: fmt.Sprintf("body-%03d", i%n),
			})
		})
	}
	wg.Wait()
	ids := map[string]bool{}
	reports := map[string]bool{}
	for i := range 2 * n {
		if errs[i] != nil {
			t.Fatalf("report %d: %v", i, errs[i])
		}
		ids[results[i].IncidentID] = true
		reports[results[i].ReportID] = true
	}
	if len(ids) != 1 || len(reports) != n {
		t.Fatalf("got %d incidents and %d distinct reports, want 1 and %d", len(ids), len(reports), n)
	}
	inc, tl, _, err := svc.Get(ctx, results[0].IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.SignalCount != n+1 || len(inc.Reporters) != reporters || inc.Severity != incident.DefaultRaisedSeverity {
		t.Errorf("got signal_count %d, %d reporters, %s; want %d, %d, %s",
			inc.SignalCount, len(inc.Reporters), inc.Severity, n+1, reporters, incident.DefaultRaisedSeverity)
	}
	kinds := CountKinds(tl)
	if kinds[incident.EntryOpened] != 1 || kinds[incident.EntryReport] != n+1 || kinds[incident.EntrySeverityChanged] != 1 {
		t.Errorf("got timeline %v, want 1 opened, %d report, 1 severity_changed", kinds, n+1)
	}
}

// A person's change decided on a read that appends overtook still lands, and
// keeps what the appends wrote; a decision that read what appends write (a
// recovery) does not, it decides again.
func (c contract) peopleDoNotWaitForAppends(t *testing.T) {
	svc, store := c.service(t, time.Now)
	ctx := context.Background()
	first, err := svc.Ingest(ctx, Alarm("checkout", "checkout-5xx"))
	if err != nil {
		t.Fatal(err)
	}
	read, err := store.Incident(ctx, first.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := svc.Ingest(ctx, Alarm("checkout", "checkout-5xx")); err != nil {
			t.Fatal(err)
		}
	}
	CatchUp(t, svc, store)
	recovery := read
	recovery.Version++
	err = store.Apply(ctx, incident.Change{Kind: incident.Update, Incident: recovery, ExpectVersion: read.Version, ExpectSignalCount: read.SignalCount})
	if !errors.Is(err, errkind.Conflict) {
		t.Errorf("update that read signal_count %d after 3 appends: got %v, want a conflict", read.SignalCount, err)
	}
	acked := read
	at := time.Now().UTC()
	acked.Status, acked.AcknowledgedAt, acked.Version = incident.StatusAcknowledged, &at, read.Version+1
	if err := store.Apply(ctx, incident.Change{Kind: incident.Update, Incident: acked, ExpectVersion: read.Version}); err != nil {
		t.Fatalf("acknowledge decided before 3 appends: %v", err)
	}
	got, err := store.Incident(ctx, first.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != incident.StatusAcknowledged || got.SignalCount != 4 || got.Version != read.Version+1 {
		t.Errorf("got %s, signal_count %d, version %d; want acknowledged, 4, %d", got.Status, got.SignalCount, got.Version, read.Version+1)
	}
}

// A command typed in a war room finds the incident whose war room it is,
// before and after it resolves; an incident keeps its first war room, and a
// channel that is no war room finds nothing.
func (c contract) warRoomFindsItsIncident(t *testing.T) {
	svc, _ := c.service(t, time.Now)
	ctx := context.Background()
	inc, err := svc.Declare(ctx, incident.Declaration{Service: "checkout", Title: "checkout down", Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := svc.Declare(ctx, incident.Declaration{Service: "payments", Title: "payments slow", Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	for _, room := range []struct{ id, channel string }{{inc.ID, "C0WARROOM1"}, {other.ID, "C0WARROOM2"}, {inc.ID, "C0SECOND01"}} {
		if _, err := svc.SetWarRoom(ctx, room.id, "warroom", room.channel, "inc-"+room.channel); err != nil {
			t.Fatal(err)
		}
	}
	find := func(channel, want string) {
		t.Helper()
		got, err := svc.WarRoomIncident(ctx, channel)
		if want == "" {
			if !errors.Is(err, errkind.NotFound) {
				t.Errorf("channel %s: got %q, %v; want errkind.NotFound", channel, got, err)
			}
			return
		}
		if err != nil || got != want {
			t.Errorf("channel %s: got %q, %v; want %s", channel, got, err, want)
		}
	}
	find("C0WARROOM1", inc.ID)
	find("C0WARROOM2", other.ID)
	find("C0SECOND01", "")
	find("C0ELSEWHER", "")
	if _, err := svc.Resolve(ctx, inc.ID, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	find("C0WARROOM1", inc.ID)
}

// A join's delivery is recorded by the fold, for DeliveryTTL like a
// decision's: a copy of it that EventBridge or Lambda retries hours later,
// once its incident was resolved and its dedup record expired (or the key
// moved on to a new incident), is a duplicate answered with the first
// result, on an instance that never saw it, and opens nothing. So is a
// join the fold decided again (accepted by an instance that had not seen
// the resolve: it reopened the incident).
func (c contract) lateCopyOfAJoinIsADuplicate(t *testing.T) {
	tests := []struct {
		name string
		// moved: a new state change opens a new incident before the copy.
		moved bool
		// redecided: the join is accepted just after another instance
		// resolved the incident, and the fold reopens it.
		redecided   bool
		wantOutcome incident.Outcome
	}{
		{name: "dedup record expired", wantOutcome: incident.Appended},
		{name: "dedup key moved on to a new incident", moved: true, wantOutcome: incident.Appended},
		{name: "decided again by the fold", redecided: true, wantOutcome: incident.Reopened},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			svc, store := c.service(t, clk.Now)
			ctx := context.Background()
			alarm := func(delivery string) incident.Signal {
				sig := Alarm("checkout", "checkout-5xx")
				sig.DeliveryID, sig.At = delivery, clk.Now()
				return sig
			}
			first, err := svc.Ingest(ctx, alarm("state-change-1000"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.redecided {
				other := incident.NewService(store, incident.Rules{}, incident.WithClock(clk.Now))
				if _, err := other.Resolve(ctx, first.IncidentID, "alice", incident.Resolution{}); err != nil {
					t.Fatal(err)
				}
				clk.Advance(time.Second)
			} else {
				clk.Advance(time.Minute)
			}
			join := alarm("state-change-1001")
			if res, err := svc.Ingest(ctx, join); err != nil || res.Outcome != incident.Appended || res.IncidentID != first.IncidentID || res.Duplicate {
				t.Fatalf("join: got %+v, %v; want appended to %s", res, err, first.IncidentID)
			}
			CatchUp(t, svc, store)
			clk.Advance(4 * time.Minute)
			if _, err := svc.Resolve(ctx, first.IncidentID, "alice", incident.Resolution{}); err != nil {
				t.Fatal(err)
			}
			// The dedup record expires ReopenWindow + 1 h after the resolve.
			clk.Advance(incident.DefaultReopenWindow + time.Hour + 5*time.Minute)
			if _, err := store.IncidentByDedupKey(ctx, join.DedupKey); !errors.Is(err, errkind.NotFound) {
				t.Fatalf("dedup key after its record expired: got %v, want errkind.NotFound", err)
			}
			wantIncidents := 1
			if tt.moved {
				res, err := svc.Ingest(ctx, alarm("state-change-1140"))
				if err != nil || res.Outcome != incident.Opened {
					t.Fatalf("a new state change: got %+v, %v; want a new incident", res, err)
				}
				wantIncidents = 2
			}
			// Another instance (it never saw the join) gets the late copy.
			other := incident.NewService(store, incident.Rules{}, incident.WithClock(clk.Now))
			got, err := other.Ingest(ctx, join)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Duplicate || got.Outcome != tt.wantOutcome || got.IncidentID != first.IncidentID {
				t.Errorf("late copy of the join: got %+v; want a duplicate, %s %s (the first result)", got, tt.wantOutcome, first.IncidentID)
			}
			CatchUp(t, svc, store)
			page, err := store.Incidents(ctx, incident.Query{Service: "checkout"})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != wantIncidents {
				t.Errorf("got %d incidents, want %d", len(page.Items), wantIncidents)
			}
			inc, err := store.Incident(ctx, first.IncidentID)
			if err != nil {
				t.Fatal(err)
			}
			if inc.SignalCount != 2 || inc.Status != incident.StatusResolved {
				t.Errorf("first incident: got signal_count %d, %s; want 2, resolved", inc.SignalCount, inc.Status)
			}
		})
	}
}

// An alarm's state change opens an incident on one instance; its other
// copy (SNS and EventBridge both deliver it) reaches an instance that saw
// the incident open less than HeadCacheTTL ago, which accepts it as a join
// without a read. The fold finds its delivery applied (the opening
// decision recorded it): it counts once, its entry says it was not
// counted, and the fold delivered again changes nothing.
func (c contract) decisionRedeliveredToAWarmInstance(t *testing.T) {
	clk := newClock()
	svc, store := c.service(t, clk.Now)
	st, ok := store.(Streamed)
	if !ok {
		t.Skip("the store hands over no pending signals")
	}
	ctx := context.Background()
	warm := incident.NewService(store, incident.Rules{}, incident.WithClock(clk.Now))
	alarm := func(delivery string) incident.Signal {
		sig := Alarm("checkout", "checkout-5xx")
		sig.DeliveryID, sig.At = delivery, clk.Now()
		return sig
	}
	opening := alarm("state-change-0800")
	first, err := svc.Ingest(ctx, opening)
	if err != nil || first.Outcome != incident.Opened {
		t.Fatalf("first copy: got %+v, %v; want opened", first, err)
	}
	clk.Advance(time.Second)
	// The warm instance joins the alarm's next state change: it read the
	// incident, and remembers it open.
	if res, err := warm.Ingest(ctx, alarm("state-change-0801")); err != nil || res.Outcome != incident.Appended || res.IncidentID != first.IncidentID {
		t.Fatalf("next state change: got %+v, %v; want appended to %s", res, err, first.IncidentID)
	}
	clk.Advance(time.Second)
	cp, err := warm.Ingest(ctx, opening)
	if err != nil || cp.IncidentID != first.IncidentID {
		t.Fatalf("second copy on the warm instance: got %+v, %v; want it on %s", cp, err, first.IncidentID)
	}
	pending := st.TakePending()
	for range 2 { // the stream delivers the batch twice
		if err := svc.Fold(ctx, pending); err != nil {
			t.Fatal(err)
		}
	}
	inc, tl, _, err := svc.Get(ctx, first.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.SignalCount != 2 {
		t.Errorf("got signal_count %d, want 2 (the opening state change once, and the next one)", inc.SignalCount)
	}
	marked := 0
	for _, e := range tl {
		if e.Kind == incident.EntrySignal && strings.Contains(e.Text, "applied before") {
			marked++
		}
	}
	if kinds := CountKinds(tl); kinds[incident.EntryOpened] != 1 || kinds[incident.EntrySignal] != 2 || marked != 1 {
		t.Errorf("got timeline %v with %d entries marked not counted, want 1 opened, 2 signal, 1 of them marked", kinds, marked)
	}
	// A third copy, on an instance that saw nothing: the first result.
	cold := incident.NewService(store, incident.Rules{}, incident.WithClock(clk.Now))
	if res, err := cold.Ingest(ctx, opening); err != nil || !res.Duplicate || res.Outcome != incident.Opened || res.IncidentID != first.IncidentID {
		t.Errorf("third copy: got %+v, %v; want a duplicate, opened %s", res, err, first.IncidentID)
	}
}

// concurrentPostmortemUpdates: PUTs of different post-mortem fields racing
// each other and a resolve all land (none overwrites another's field), each
// change is one postmortem_updated entry, and the document's link reads back
// as recorded.
func (c contract) concurrentPostmortemUpdates(t *testing.T) {
	svc, store := c.service(t, time.Now)
	ctx := context.Background()
	res, err := svc.Ingest(ctx, Alarm("search", "search-latency"))
	if err != nil {
		t.Fatal(err)
	}
	id := res.IncidentID
	rc, fix, well, wrong := "a runaway reindex job", "killed the job", "paged in a minute", "no runbook"
	items := []string{"rate-limit reindexing", "write the runbook"}
	updates := []incident.PostmortemFields{
		{RootCause: &rc}, {Fix: &fix}, {WentWell: &well}, {WentWrong: &wrong}, {ActionItems: &items},
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(updates)+1)
	for i, u := range updates {
		wg.Go(func() {
			if _, err := svc.UpdatePostmortem(ctx, id, fmt.Sprintf("responder-%d", i), u); err != nil {
				errs <- fmt.Errorf("update %d: %w", i, err)
			}
		})
	}
	wg.Go(func() {
		if _, err := svc.Resolve(ctx, id, "alice", incident.Resolution{}); err != nil {
			errs <- fmt.Errorf("resolve: %w", err)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	link := incident.PostmortemLink{Key: "postmortems/" + id + ".md", VersionID: "v1", SHA256: "abc"}
	if _, err := svc.RecordPostmortem(ctx, id, link, 0); err != nil {
		t.Fatal(err)
	}
	got, err := store.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.RootCause != rc || got.Fix != fix || got.WentWell != well || got.WentWrong != wrong || !slices.Equal(got.ActionItems, items) {
		t.Errorf("got fields %q %q %q %q %q, want %q %q %q %q %q", got.RootCause, got.Fix, got.WentWell, got.WentWrong, got.ActionItems,
			rc, fix, well, wrong, items)
	}
	if got.Status != incident.StatusResolved {
		t.Errorf("got status %s, want resolved", got.Status)
	}
	if got.Postmortem == nil || *got.Postmortem != link {
		t.Errorf("got link %+v, want %+v", got.Postmortem, link)
	}
	// A run that rendered an older state of the incident does not put its
	// document back over the newer one linked since: Conflict, link kept.
	older := incident.PostmortemLink{Key: link.Key, VersionID: "v0", SHA256: "old"}
	if _, err := svc.RecordPostmortem(ctx, id, older, got.Version-1); !errors.Is(err, errkind.Conflict) {
		t.Errorf("recording a document rendered from version %d (now %d): got %v, want a conflict", got.Version-1, got.Version, err)
	}
	if again, err := store.Incident(ctx, id); err != nil || again.Postmortem == nil || *again.Postmortem != link {
		t.Errorf("after the refused record: link %+v (%v), want %+v", again.Postmortem, err, link)
	}
	tl, _, err := store.Timeline(ctx, id, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range tl {
		if e.Kind == incident.EntryPostmortemUpdated {
			n++
		}
	}
	if n != len(updates) {
		t.Errorf("got %d postmortem_updated entries, want %d", n, len(updates))
	}
}
