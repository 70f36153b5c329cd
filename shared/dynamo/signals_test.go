package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/clock/clocktest"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

// State changes of one alarm appended out of order, folded by a stream that
// delivers them twice and in overlapping batches: each counts once, and
// last_signal_at is the latest of them, not the last folded.
func TestFoldCountsOnceAndKeepsTheLatestTime(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := dynamotest.StreamedStore(t, dynamo.WithClock(c.Now))
	svc := incident.NewService(st, incident.Rules{}, incident.WithClock(c.Now))
	t0 := c.Now().Add(-time.Hour)
	sig := func(n int, at time.Time) incident.Signal {
		s := incidenttest.Alarm("checkout", "checkout-5xx")
		s.DeliveryID, s.At = fmt.Sprintf("sns-%d", n), at
		return s
	}
	first, err := svc.Ingest(ctx, sig(0, t0))
	if err != nil {
		t.Fatal(err)
	}
	for i, off := range []time.Duration{3, 1, 2} {
		res, err := svc.Ingest(ctx, sig(i+1, t0.Add(off*time.Minute)))
		if err != nil || res.Outcome != incident.Appended || res.IncidentID != first.IncidentID {
			t.Fatalf("signal %d: got %+v, %v; want appended to %s", i+1, res, err, first.IncidentID)
		}
	}
	pending := st.TakePending()
	if len(pending) != 3 {
		t.Fatalf("got %d pending signals, want 3", len(pending))
	}
	for _, batch := range [][]incident.PendingSignal{pending[:2], pending, pending[1:], pending} {
		if err := svc.Fold(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	inc, tl, _, err := svc.Get(ctx, first.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.SignalCount != 4 || !inc.LastSignalAt.Equal(t0.Add(3*time.Minute)) || inc.Version != 1 {
		t.Errorf("got signal_count %d, last_signal_at %s, version %d; want 4, %s, 1",
			inc.SignalCount, inc.LastSignalAt, inc.Version, t0.Add(3*time.Minute))
	}
	if kinds := incidenttest.CountKinds(tl); kinds[incident.EntrySignal] != 3 || kinds[incident.EntryOpened] != 1 {
		t.Errorf("got timeline %v, want 1 opened and 3 signal", kinds)
	}
}

// An instance that still believes the incident open (it saw it open less
// than HeadCacheTTL ago) accepts a new state change of the alarm as a
// pending signal after another instance resolved it: the fold decides it
// again, and it reopens the incident.
func TestFoldDecidesAgainASignalAcceptedAfterTheResolve(t *testing.T) {
	ctx := context.Background()
	c, st, svc, other := twoInstances(t)
	sig := incidenttest.Alarm("checkout", "checkout-5xx")
	sig.DeliveryID, sig.At = "sns-1", c.Now().Add(-time.Minute)
	first, err := svc.Ingest(ctx, sig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Resolve(ctx, first.IncidentID, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	sig.DeliveryID, sig.At = "sns-2", c.Now()
	inc, kinds := joinThenFold(t, svc, st, sig, first.IncidentID)
	if inc.Status != incident.StatusTriggered || inc.ReopenCount != 1 || inc.SignalCount != 2 {
		t.Errorf("got %s, reopen_count %d, signal_count %d; want triggered, 1, 2", inc.Status, inc.ReopenCount, inc.SignalCount)
	}
	if kinds[incident.EntryReopened] != 1 || kinds[incident.EntrySignal] != 1 {
		t.Errorf("got timeline %v, want one reopened and one signal entry", kinds)
	}
	// Delivered again: nothing more happens.
	res, err := svc.Ingest(ctx, sig)
	if err != nil || !res.Duplicate {
		t.Errorf("redelivery: got %+v, %v; want a duplicate", res, err)
	}
}

// A person lowers the severity on another instance; an instance that still
// remembers it higher accepts a more severe state change as a join: the fold
// decides it again, and it raises the incident.
func TestFoldDecidesAgainASignalMoreSevereThanTheIncident(t *testing.T) {
	ctx := context.Background()
	c, st, svc, other := twoInstances(t)
	sig := incidenttest.Alarm("checkout", "checkout-5xx")
	sig.DeliveryID, sig.At, sig.Severity = "sns-1", c.Now().Add(-time.Minute), incident.SEV1
	first, err := svc.Ingest(ctx, sig)
	if err != nil {
		t.Fatal(err)
	}
	sev := incident.SEV3
	if _, err := other.Update(ctx, first.IncidentID, "alice", incident.Patch{Severity: &sev}); err != nil {
		t.Fatal(err)
	}
	sig.DeliveryID, sig.At, sig.Severity = "sns-2", c.Now(), incident.SEV2
	inc, kinds := joinThenFold(t, svc, st, sig, first.IncidentID)
	if inc.Severity != incident.SEV2 || inc.SignalCount != 2 || kinds[incident.EntrySignal] != 1 || kinds[incident.EntrySeverityChanged] != 2 {
		t.Errorf("got %s, signal_count %d, timeline %v; want SEV2, 2, one signal and two severity changes", inc.Severity, inc.SignalCount, kinds)
	}
}

// joinThenFold gives sig to svc, which must accept it as a join of incident
// id (what the instance remembers of it), then folds it as the stream
// function would, and returns the incident and its timeline's kinds.
func joinThenFold(t *testing.T, svc *incident.Service, st incident.Store, sig incident.Signal, id string) (incident.Incident, map[incident.EntryKind]int) {
	t.Helper()
	ctx := context.Background()
	if res, err := svc.Ingest(ctx, sig); err != nil || res.Outcome != incident.Appended || res.IncidentID != id {
		t.Fatalf("got %+v, %v; want it accepted as a join of %s (what the instance remembers)", res, err, id)
	}
	incidenttest.CatchUp(t, svc, st)
	inc, tl, _, err := svc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return inc, incidenttest.CountKinds(tl)
}

// twoInstances returns two services (two instances of a function, each with
// its own memory) over one fresh table, on one clock.
func twoInstances(t *testing.T) (*clocktest.Clock, *dynamolocal.Streamed, *incident.Service, *incident.Service) {
	t.Helper()
	c := newClock()
	st := dynamotest.StreamedStore(t, dynamo.WithClock(c.Now))
	return c, st, incident.NewService(st, incident.Rules{}, incident.WithClock(c.Now)),
		incident.NewService(st, incident.Rules{}, incident.WithClock(c.Now))
}

// A batch larger than one transaction holds (each signal counted takes two
// writes: its entry's mark and its delivery record) is folded in several,
// each signal once: the delivery record of each is there afterwards, with
// the result a join answers; a signal whose delivery a decision applied
// (the opening state change, accepted again as a join) is marked, not
// counted; the batch delivered again writes nothing. Requests are counted on
// the wire: one BatchGetItem (the incident and up to 99 delivery records)
// and one transaction per 49 signals, a GetItem before each further one.
func TestFoldRecordsDeliveriesInTransactionsThatFit(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	m := &dynamolocal.Meter{}
	st := &dynamolocal.Streamed{Store: dynamo.New(dynamolocal.Metered(dynamotest.Client(t), m), dynamotest.NewTable(t), dynamo.WithClock(c.Now))}
	svc := incident.NewService(st, incident.Rules{}, incident.WithClock(c.Now))
	t0 := c.Now().Add(-time.Hour)
	sig := func(n int) incident.Signal {
		s := incidenttest.Alarm("checkout", "checkout-5xx")
		s.DeliveryID, s.At = fmt.Sprintf("sns-%03d", n), t0.Add(time.Duration(n)*time.Second)
		return s
	}
	first, err := svc.Ingest(ctx, sig(0))
	if err != nil {
		t.Fatal(err)
	}
	const joins = 120
	for n := 1; n <= joins; n++ {
		if res, err := svc.Ingest(ctx, sig(n)); err != nil || res.Outcome != incident.Appended {
			t.Fatalf("join %d: got %+v, %v; want appended", n, res, err)
		}
	}
	// The opening delivery's copy, accepted as a join (a warm instance).
	dup := incident.PendingSignal{Signal: sig(0), IncidentID: first.IncidentID, AcceptedAt: c.Now(), Severity: incident.SEV3}
	if _, err := st.AddSignal(ctx, dup); err != nil {
		t.Fatal(err)
	}
	pending := st.TakePending()
	if len(pending) != joins+1 {
		t.Fatalf("got %d pending signals, want %d", len(pending), joins+1)
	}
	m.Reset()
	if err := svc.Fold(ctx, pending); err != nil {
		t.Fatal(err)
	}
	r, w := m.Units()
	t.Logf("fold of %d signals: %d requests [%s], %.1f read units, %.1f write units", len(pending), m.Calls(), m.Operations(), r, w)
	// 121 keys: two BatchGetItem; 120 counted and one duplicate: three
	// transactions (49, 49, 22 and the duplicate), two GetItem between.
	if got, want := m.Calls(), 2+3+2; got != want {
		t.Errorf("fold: got %d requests [%s], want %d", got, m.Operations(), want)
	}
	inc, tl, _, err := svc.Get(ctx, first.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.SignalCount != joins+1 || !inc.LastSignalAt.Equal(sig(joins).At) {
		t.Errorf("got signal_count %d, last_signal_at %s; want %d, %s", inc.SignalCount, inc.LastSignalAt, joins+1, sig(joins).At)
	}
	marked := 0
	for _, e := range tl {
		if strings.Contains(e.Text, "applied before") {
			marked++
		}
	}
	if marked != 1 {
		t.Errorf("got %d entries marked not counted, want 1", marked)
	}
	for _, n := range []int{1, 49, 50, 99, joins} {
		res, err := st.Delivery(ctx, sig(n).DeliveryID)
		if err != nil || res.Outcome != incident.Appended || res.IncidentID != first.IncidentID {
			t.Errorf("delivery record of join %d: got %+v, %v; want appended to %s", n, res, err, first.IncidentID)
		}
	}
	if res, err := st.Delivery(ctx, sig(0).DeliveryID); err != nil || res.Outcome != incident.Opened {
		t.Errorf("delivery record of the opening state change: got %+v, %v; want opened (the decision's)", res, err)
	}
	// Delivered again: reads, and marks that find their entries marked.
	m.Reset()
	if err := svc.Fold(ctx, pending); err != nil {
		t.Fatal(err)
	}
	_, w = m.Units()
	t.Logf("the batch delivered again: %d requests [%s], %.1f write units", m.Calls(), m.Operations(), w)
	again, err := st.Incident(ctx, first.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if again.SignalCount != joins+1 || again.Version != inc.Version {
		t.Errorf("after the batch delivered again: got signal_count %d, version %d; want %d, %d", again.SignalCount, again.Version, joins+1, inc.Version)
	}
	// A fold into an incident that does not exist folds nothing.
	gone := pending[0]
	gone.IncidentID = incident.NewID(c.Now())
	if err := svc.Fold(ctx, []incident.PendingSignal{gone}); err != nil {
		t.Errorf("fold into a missing incident: %v", err)
	}
	if _, err := st.Delivery(ctx, "never-delivered"); !errors.Is(err, errkind.NotFound) {
		t.Errorf("a delivery never made: got %v, want errkind.NotFound", err)
	}
}
