package alarms

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/incident"
)

// Run one with: go test -run='^$' -fuzz=FuzzParseSNS -fuzztime=60s ./shared/alarms

// seedFixtures adds every alarms-*.json fixture with the given prefix.
func seedFixtures(f *testing.F, prefix string) {
	for _, name := range alarmFixtures(f) {
		if strings.HasPrefix(name, prefix) {
			f.Add(readFixture(f, name))
		}
	}
}

// checkNotification asserts what any parsed notification must satisfy, and
// that its signal is one the domain accepts.
func checkNotification(t *testing.T, n Notification) {
	t.Helper()
	if n.AlarmName == "" || len(n.AlarmName) > maxName {
		t.Fatalf("got alarm name of %d bytes, want 1-%d", len(n.AlarmName), maxName)
	}
	if n.State == "" || len(n.State) > 64 {
		t.Fatalf("got state %q, want 1-64 bytes", n.State)
	}
	switch n.Kind {
	case KindMetric, KindMetricMath, KindAnomaly, KindComposite:
	default:
		t.Fatalf("got kind %q", n.Kind)
	}
	for _, s := range []string{n.Reason, n.Description, n.Metric, n.AlarmRule} {
		if len(s) > maxField {
			t.Fatalf("got a field of %d bytes, want at most %d", len(s), maxField)
		}
	}
	if len(n.Children) > maxChildren || len(n.Tags) > MaxTags {
		t.Fatalf("got %d children and %d tags", len(n.Children), len(n.Tags))
	}
	if n.Identity() == "" {
		t.Fatal("got an empty identity")
	}
	sig, ok := NewSignal(n, Resolve(n, fuzzServices, "unassigned"))
	_, kindOK := SignalKind(n)
	if ok != kindOK {
		t.Fatalf("NewSignal ok %v, SignalKind ok %v", ok, kindOK)
	}
	if !ok {
		return
	}
	if err := incident.ValidateServiceName(sig.Service); err != nil {
		t.Fatalf("routed to an invalid service: %v", err)
	}
	if sig.Severity != "" && !sig.Severity.Valid() {
		t.Fatalf("got severity %q", sig.Severity)
	}
	if !strings.HasPrefix(sig.DedupKey, "alarm:") || sig.Title == "" || sig.Actor != "alarm:"+n.AlarmName {
		t.Fatalf("got dedup key %q, title %q, actor %q", sig.DedupKey, sig.Title, sig.Actor)
	}
	if sig.DeliveryID == "" || len(sig.DeliveryID) > 200 {
		t.Fatalf("got delivery id %q", sig.DeliveryID)
	}
}

var fuzzServices = []incident.ServiceConfig{
	{Name: "checkout"}, {Name: "payments"}, {Name: "orders", Alarms: []string{"HighErrorRate-Order*", "x"}},
}

func FuzzParseSNS(f *testing.F) {
	seedFixtures(f, "alarms-sns-")
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev events.SNSEvent
		if json.Unmarshal(data, &ev) != nil {
			return
		}
		for _, rec := range ev.Records {
			n, err := ParseSNSRecord(rec)
			if err != nil {
				continue
			}
			checkNotification(t, n)
			again, err := ParseSNSRecord(rec)
			if err != nil {
				t.Fatalf("second parse failed: %v", err)
			}
			if a, b := mustDelivery(n), mustDelivery(again); a != b {
				t.Fatalf("delivery id not stable: %q then %q", a, b)
			}
		}
	})
}

func FuzzParseSNSMessage(f *testing.F) {
	for _, name := range alarmFixtures(f) {
		if !strings.HasPrefix(name, "alarms-sns-") {
			continue
		}
		var ev events.SNSEvent
		if err := json.Unmarshal(readFixture(f, name), &ev); err != nil {
			f.Fatal(err)
		}
		f.Add(ev.Records[0].SNS.Message)
	}
	f.Add(`{"AlarmName":"a","NewStateValue":"ALARM","TriggeringChildren":["x"],"AlarmTags":[{"Key":"k","Value":"v"}]}`)
	f.Fuzz(func(t *testing.T, message string) {
		n, err := ParseSNSMessage(message)
		if err != nil {
			return
		}
		checkNotification(t, n)
	})
}

func FuzzParseEvent(f *testing.F) {
	seedFixtures(f, "alarms-eventbridge-")
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev events.CloudWatchEvent
		if json.Unmarshal(data, &ev) != nil {
			return
		}
		n, err := ParseEvent(ev)
		if err != nil {
			return
		}
		checkNotification(t, n)
		again, _ := ParseEvent(ev)
		if a, b := mustDelivery(n), mustDelivery(again); a != b {
			t.Fatalf("delivery id not stable: %q then %q", a, b)
		}
	})
}

func FuzzParseAction(f *testing.F) {
	seedFixtures(f, "alarms-action")
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ParseAction(data)
		if err != nil {
			return
		}
		checkNotification(t, n)
		again, _ := ParseAction(data)
		if a, b := mustDelivery(n), mustDelivery(again); a != b {
			t.Fatalf("delivery id not stable: %q then %q", a, b)
		}
	})
}

// FuzzHandle feeds anything to the handler's dispatch: it must never panic,
// must answer every notification with an outcome, and must fail only when the
// ingester does.
func FuzzHandle(f *testing.F) {
	seedFixtures(f, "alarms-")
	f.Add([]byte(`{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"garbage"}},{"EventSource":"aws:sqs"}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"detail-type":null}`))
	h := NewHandler(checkingIngester{}, staticServices(fuzzServices), Config{
		DefaultService: "unassigned", Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := h.Handle(context.Background(), json.RawMessage(data))
		if err != nil {
			t.Fatalf("got error %v with an ingester that never fails", err)
		}
		resp, ok := out.(Response)
		if !ok {
			t.Fatalf("got %T, want Response", out)
		}
		if len(resp.Items) == 0 {
			t.Fatal("got no items, want at least one outcome")
		}
		for _, it := range resp.Items {
			if it.Outcome == "" || it.Outcome == OutcomeFailed {
				t.Fatalf("got item %+v", it)
			}
		}
	})
}

func mustDelivery(n Notification) string {
	k, _ := SignalKind(n)
	return n.deliveryID(string(k))
}

// checkingIngester stands in for the incident service where no store is
// involved: it checks the signal and answers as the service would.
type checkingIngester struct{}

func (checkingIngester) Ingest(_ context.Context, sig incident.Signal) (incident.Result, error) {
	if sig.Source != incident.SourceAlarm || sig.DedupKey == "" || sig.DeliveryID == "" {
		return incident.Result{}, errors.New("malformed signal")
	}
	if err := incident.ValidateServiceName(sig.Service); err != nil {
		return incident.Result{}, err
	}
	return incident.Result{Outcome: incident.Noted}, nil
}

type staticServices []incident.ServiceConfig

func (s staticServices) ListServiceConfigs(context.Context) ([]incident.ServiceConfig, error) {
	return s, nil
}
