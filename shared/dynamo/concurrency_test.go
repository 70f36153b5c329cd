package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
)

// Two hundred deliveries of one alarm at once must converge on one incident
// that counts every one of them.
func TestConcurrentDuplicateSignalsOpenOneIncident(t *testing.T) {
	svc, store := newService(t, nil, incident.Rules{})
	ctx := context.Background()
	const n = 200
	results := make([]incident.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			sig := alarm("checkout", "checkout-5xx")
			sig.DeliveryID = fmt.Sprintf("sns-message-%03d", i)
			results[i], errs[i] = svc.Ingest(ctx, sig)
		})
	}
	wg.Wait()
	t.Logf("%d concurrent signals took %s", n, time.Since(start))

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
	if want := int64(n); inc.Version != want {
		t.Errorf("got version %d, want %d (one per write)", inc.Version, want)
	}
	tl, _, err := store.Timeline(ctx, inc.ID, incident.TimelineLimit)
	if err != nil {
		t.Fatal(err)
	}
	kinds := countKinds(tl)
	if kinds[incident.EntryOpened] != 1 || kinds[incident.EntrySignal] != n-1 || len(tl) != n {
		t.Errorf("got timeline %v (%d entries), want 1 opened and %d signal", kinds, len(tl), n-1)
	}
}

// One delivery redelivered, one after the other and all at once, changes the
// incident once; the repeats say they were duplicates.
func TestRedeliveredSignalAppliesOnce(t *testing.T) {
	tests := []struct {
		name       string
		concurrent bool
	}{
		{name: "sequential"},
		{name: "concurrent", concurrent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, store := newService(t, nil, incident.Rules{})
			ctx := context.Background()
			sig := alarm("payments", "payments-latency")
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
			if kinds := countKinds(tl); kinds[incident.EntryOpened] != 1 || len(tl) != 1 {
				t.Errorf("got timeline %v, want one opened entry", kinds)
			}
		})
	}
}

// Responders working one incident at once: every note lands, every transition
// and patch is applied on top of the others, no write is lost.
func TestConcurrentTransitionsAndNotes(t *testing.T) {
	svc, _ := newService(t, nil, incident.Rules{})
	ctx := context.Background()
	res, err := svc.Ingest(ctx, alarm("search", "search-cpu"))
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
	kinds := countKinds(tl)
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
