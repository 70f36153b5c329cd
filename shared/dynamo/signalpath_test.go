package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

// The round trips of the signal path, counted on the wire (every request the
// SDK sends to DynamoDB Local, retries included), mostly on one instance whose
// caches are warm: it handled a signal of the service before. Issue 9's
// budgets: a new alarm ≤ 2, its redelivery ≤ 1, the same alarm's next state
// change ≤ 1 on the request path (the stream folds it into the incident
// afterwards), a new log signal ≤ 2, a new report ≤ 2. Write units are
// logged for the cost model. A redelivered join reaching an instance that
// never saw its incident takes one more read (the dedup record says which
// incident's entry to look for).
func TestSignalPathRoundTrips(t *testing.T) {
	ctx := context.Background()
	m := &dynamolocal.Meter{}
	st := &dynamolocal.Streamed{Store: dynamo.New(dynamolocal.Metered(dynamotest.Client(t), m), dynamotest.NewTable(t))}
	svc := incident.NewService(st, incident.Rules{})
	for _, name := range []string{"checkout", "search"} {
		if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: name, DefaultSeverity: incident.SEV2}); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	alarm := func(name, delivery string, at time.Time) incident.Signal {
		sig := incidenttest.Alarm("checkout", name)
		sig.DeliveryID, sig.At = delivery, at
		return sig
	}
	// The instance warms up: the service's configuration is cached.
	if _, err := svc.Ingest(ctx, alarm("checkout-cpu", "warm-up", at)); err != nil {
		t.Fatal(err)
	}
	fresh := incident.NewService(st, incident.Rules{}) // another instance, cold

	tests := []struct {
		name        string
		do          func() (incident.Result, error)
		wantOutcome incident.Outcome
		wantDup     bool
		budget      int
	}{
		{"new alarm", func() (incident.Result, error) { return svc.Ingest(ctx, alarm("checkout-5xx", "sns-1", at)) },
			incident.Opened, false, 2},
		// Its configuration is read with the rest.
		{"new alarm to a cold instance", func() (incident.Result, error) {
			return incident.NewService(st, incident.Rules{}).Ingest(ctx, alarm("checkout-latency", "sns-9", at))
		}, incident.Opened, false, 2},
		{"alarm redelivery", func() (incident.Result, error) { return svc.Ingest(ctx, alarm("checkout-5xx", "sns-1", at)) },
			incident.Opened, true, 1},
		{"alarm redelivery to a cold instance", func() (incident.Result, error) {
			return fresh.Ingest(ctx, alarm("checkout-5xx", "sns-1", at))
		}, incident.Opened, true, 1},
		{"same alarm, new state change", func() (incident.Result, error) {
			return svc.Ingest(ctx, alarm("checkout-5xx", "sns-2", at.Add(time.Second)))
		}, incident.Appended, false, 1},
		{"its redelivery", func() (incident.Result, error) {
			return svc.Ingest(ctx, alarm("checkout-5xx", "sns-2", at.Add(time.Second)))
		}, incident.Appended, true, 1},
		// A cold instance knows no incident to read the join's entry on with
		// the dedup record: one more read.
		{"its redelivery to a cold instance", func() (incident.Result, error) {
			return incident.NewService(st, incident.Rules{}).Ingest(ctx, alarm("checkout-5xx", "sns-2", at.Add(time.Second)))
		}, incident.Appended, true, 2},
		{"new log signal", func() (incident.Result, error) {
			return svc.Ingest(ctx, incident.Signal{Source: incident.SourceLog, Kind: incident.Trigger, Service: "checkout",
				DedupKey: "log:checkout:8c38372fe22a08a5", Title: "checkout: payment provider timeout", At: at,
				DeliveryID: "log:checkout:8c38372fe22a08a5:1764583200", Actor: "log:/aws/lambda/checkout"})
		}, incident.Opened, false, 2},
		{"new report", func() (incident.Result, error) {
			return svc.Report(ctx, incident.ReportInput{Service: "checkout", Summary: "checkout page times out",
				ReporterEmail: "ana@example.com", DeliveryID: "api:report:k-1", Fingerprint: "body-1"})
		}, incident.Opened, false, 2},
		// A cold instance reads the service's configuration with the rest too
		// (and refuses an unknown service from what it read). A report that
		// joins an incident a cold instance does not know reads it in a
		// second round trip, and counts its reporters in a third (README,
		// "The signal path").
		{"new report to a cold instance", func() (incident.Result, error) {
			return incident.NewService(st, incident.Rules{}).Report(ctx, incident.ReportInput{Service: "search", Summary: "search returns nothing",
				ReporterEmail: "bo@example.com", DeliveryID: "api:report:k-2", Fingerprint: "body-2"})
		}, incident.Opened, false, 2},
	}
	for _, tt := range tests {
		m.Reset()
		res, err := tt.do()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if res.Outcome != tt.wantOutcome || res.Duplicate != tt.wantDup {
			t.Errorf("%s: got %s (duplicate %v), want %s (duplicate %v)", tt.name, res.Outcome, res.Duplicate, tt.wantOutcome, tt.wantDup)
		}
		r, w := m.Units()
		t.Logf("%-40s %d round trips [%s], %.1f read units, %.1f write units", tt.name+":", m.Calls(), m.Operations(), r, w)
		if got := m.Calls(); got > tt.budget {
			t.Errorf("%s: got %d round trips [%s], want at most %d", tt.name, got, m.Operations(), tt.budget)
		}
	}

	// The stream folds the appended state change in: two round trips for the
	// batch's signals of one incident, off the request path.
	m.Reset()
	incidenttest.CatchUp(t, svc, st)
	r, w := m.Units()
	t.Logf("%-40s %d round trips [%s], %.1f read units, %.1f write units", "fold of one signal (stream):", m.Calls(), m.Operations(), r, w)
	page, err := svc.List(ctx, incident.Query{Service: "checkout", Status: "open"})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, inc := range page.Items {
		counts[inc.DedupKey] = inc.SignalCount
	}
	if got := counts[incidenttest.Alarm("checkout", "checkout-5xx").DedupKey]; got != 2 {
		t.Errorf("signal_count of checkout-5xx once folded: got %d, want 2", got)
	}
}

// A report naming a service nobody configured, with many configured: it is
// refused naming the first ten, after reading the service's configuration
// and ten names (and one more, to say there are others), not every service;
// the next one on the instance reads nothing.
func TestUnknownServiceReportReadsAFewNames(t *testing.T) {
	ctx := context.Background()
	m := &dynamolocal.Meter{}
	st := dynamo.New(dynamolocal.Metered(dynamotest.Client(t), m), dynamotest.NewTable(t))
	svc := incident.NewService(st, incident.Rules{})
	for i := range 40 {
		if _, err := svc.PutServiceConfig(ctx, incident.ServiceConfig{Name: fmt.Sprintf("svc-%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	want := `service "chekout" is not configured; configured services: svc-00, svc-01, svc-02, svc-03, svc-04, svc-05, svc-06, svc-07, svc-08, svc-09, …`
	for i, wantCalls := range []int{2, 0} {
		m.Reset()
		_, err := svc.Report(ctx, incident.ReportInput{Service: "chekout", Summary: "checkout is down"})
		if !errors.Is(err, errkind.Invalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("report %d: got %v, want %q", i, err, want)
		}
		r, _ := m.Units()
		t.Logf("report %d for an unknown service: %d requests [%s], %.1f read units", i, m.Calls(), m.Operations(), r)
		if got := m.Calls(); got != wantCalls {
			t.Errorf("report %d: got %d requests [%s], want %d", i, got, m.Operations(), wantCalls)
		}
	}
}
