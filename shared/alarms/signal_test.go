package alarms

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/shared/incident"
)

func mustParse(tb testing.TB, name string) Notification {
	tb.Helper()
	n, err := parseFixture(tb, name)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return n
}

func mustSignal(tb testing.TB, n Notification, services []incident.ServiceConfig) incident.Signal {
	tb.Helper()
	sig, ok := NewSignal(n, Resolve(n, services, "unassigned"))
	if !ok {
		tb.Fatalf("%s in %s: got no signal, want one", n.AlarmName, n.State)
	}
	return sig
}

// actionFor builds the direct Lambda alarm action CloudWatch would send for
// the same state change as n.
func actionFor(tb testing.TB, n Notification) []byte {
	tb.Helper()
	b, err := json.Marshal(map[string]any{
		"source": "aws.cloudwatch", "alarmArn": n.AlarmARN, "accountId": n.Account,
		"time": n.StateTimestamp, "region": n.Region,
		"alarmData": map[string]any{
			"alarmName": n.AlarmName,
			"state":     map[string]any{"value": n.State, "reason": n.Reason, "timestamp": n.StateTimestamp},
			"configuration": map[string]any{
				"description": n.Description,
			},
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestNewSignal(t *testing.T) {
	sig := mustSignal(t, mustParse(t, "alarms-sns-metric.json"), nil)
	want := incident.Signal{
		Source: incident.SourceAlarm, Kind: incident.Trigger, Service: "checkout",
		DedupKey: "alarm:" + arn("checkout-cpu"), Severity: incident.SEV2,
		Title: "checkout-cpu in ALARM", At: at("2026-11-23T09:15:42.518Z"), Ref: arn("checkout-cpu"),
		Actor: "alarm:checkout-cpu",
	}
	text, delivery := sig.Text, sig.DeliveryID
	sig.Text, sig.DeliveryID = "", ""
	if !reflect.DeepEqual(sig, want) {
		t.Errorf("got  %+v\nwant %+v", sig, want)
	}
	for _, part := range []string{
		"Threshold Crossed: 3 out of the last 3 datapoints",
		"metric alarm checkout-cpu in eu-west-1 (account 123456789012): OK → ALARM",
		"Metric: AWS/ECS CPUUtilization {ClusterName=prod, ServiceName=checkout} Average/60s",
		"Description: CPU of the checkout ECS service",
	} {
		if !strings.Contains(text, part) {
			t.Errorf("got text %q, want it to contain %q", text, part)
		}
	}
	if !strings.HasPrefix(delivery, "alarm-state:") {
		t.Errorf("got delivery id %q, want one derived from the state change", delivery)
	}
}

func TestSignalKind(t *testing.T) {
	tests := []struct {
		name   string
		n      Notification
		want   incident.SignalKind
		wantOK bool
	}{
		{"alarm", Notification{State: StateAlarm}, incident.Trigger, true},
		{"ok", Notification{State: StateOK}, incident.Recover, true},
		{"insufficient data", Notification{State: StateInsufficientData}, incident.Info, true},
		{"alarm suppressed by its suppressor", Notification{State: StateAlarm, ActionsSuppressedBy: "Alarm"}, incident.Info, true},
		{"alarm in the suppressor's wait period", Notification{State: StateAlarm, ActionsSuppressedBy: "WaitPeriod"}, incident.Info, true},
		{"alarm muted", Notification{State: StateAlarm, MutedBy: "arn:aws:cloudwatch:eu-west-1:1:alarm-mute-rule:m"}, incident.Info, true},
		{"ok while muted", Notification{State: StateOK, MutedBy: "arn:aws:cloudwatch:eu-west-1:1:alarm-mute-rule:m"}, incident.Recover, true},
		{"unknown state", Notification{State: "PENDING"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := SignalKind(tt.n)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// The same state change delivered by SNS, EventBridge and a direct Lambda
// action has one delivery id; a redelivery too; another change does not.
func TestDeliveryIDAcrossPaths(t *testing.T) {
	sns := mustSignal(t, mustParse(t, "alarms-sns-metric.json"), nil)
	eb := mustSignal(t, mustParse(t, "alarms-eventbridge-metric.json"), nil)
	act, err := ParseAction(actionFor(t, mustParse(t, "alarms-sns-metric.json")))
	if err != nil {
		t.Fatal(err)
	}
	action := mustSignal(t, act, nil)
	if sns.DeliveryID != eb.DeliveryID || sns.DeliveryID != action.DeliveryID {
		t.Errorf("got delivery ids SNS %q, EventBridge %q, action %q; want one", sns.DeliveryID, eb.DeliveryID, action.DeliveryID)
	}
	if again := mustSignal(t, mustParse(t, "alarms-sns-metric.json"), nil); again.DeliveryID != sns.DeliveryID {
		t.Errorf("redelivery: got %q, want %q", again.DeliveryID, sns.DeliveryID)
	}
	if ok := mustSignal(t, mustParse(t, "alarms-sns-ok.json"), nil); ok.DeliveryID == sns.DeliveryID {
		t.Errorf("the OK that followed got the ALARM's delivery id %q", ok.DeliveryID)
	}
}

// The time is compared as an instant, not as text.
func TestDeliveryIDTimeFormats(t *testing.T) {
	n := mustParse(t, "alarms-sns-metric.json")
	a := n
	a.StateTimestamp = "2026-11-23T09:15:42.518Z"
	a.StateChangedAt = parseTime(a.StateTimestamp)
	if got, want := a.deliveryID("trigger"), n.deliveryID("trigger"); got != want {
		t.Errorf("got %q for a Z time, want %q as for +0000", got, want)
	}
	b := n
	b.StateTimestamp = "2026-11-23T09:15:42.519+0000"
	b.StateChangedAt = parseTime(b.StateTimestamp)
	if b.deliveryID("trigger") == n.deliveryID("trigger") {
		t.Error("a state change a millisecond later got the same delivery id")
	}
}

// A suppressed ALARM seen on EventBridge is only noted; the SNS notification
// CloudWatch sends for the same change when the suppression ends must not be
// taken for a duplicate of it.
func TestDeliveryIDSuppressedDiffers(t *testing.T) {
	n := mustParse(t, "alarms-eventbridge-metric.json")
	held := n
	held.ActionsSuppressedBy = "WaitPeriod"
	if mustSignal(t, held, nil).DeliveryID == mustSignal(t, n, nil).DeliveryID {
		t.Error("a suppressed and an unsuppressed delivery of one change share a delivery id")
	}
}

// Without a state time the envelope's id keeps redeliveries apart from other
// changes.
func TestDeliveryIDWithoutStateTime(t *testing.T) {
	n := Notification{Path: PathSNS, EnvelopeID: "m-1", AlarmName: "checkout-cpu", State: StateAlarm}
	if got, want := n.deliveryID("trigger"), "sns:m-1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSuppressedAndMutedSignals(t *testing.T) {
	tests := []struct {
		file      string
		wantTitle string
		wantText  string
	}{
		{"alarms-eventbridge-composite.json", "checkout-degraded in ALARM (actions suppressed)",
			"Actions suppressed by Alarm (suppressor checkout-maintenance): Alarm checkout-maintenance is in ALARM state"},
		{"alarms-eventbridge-muted.json", "search-cpu in ALARM (muted)",
			"Muted by arn:aws:cloudwatch:eu-west-1:123456789012:alarm-mute-rule:search-weekly-reindex (window 2026-11-23T02:00:00.000+0000 – 2026-11-23T04:00:00.000+0000)"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			sig := mustSignal(t, mustParse(t, tt.file), nil)
			if sig.Kind != incident.Info {
				t.Errorf("got kind %q, want info", sig.Kind)
			}
			if sig.Title != tt.wantTitle {
				t.Errorf("got title %q, want %q", sig.Title, tt.wantTitle)
			}
			if !strings.Contains(sig.Text, tt.wantText) {
				t.Errorf("got text %q, want it to contain %q", sig.Text, tt.wantText)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	services := []incident.ServiceConfig{
		{Name: "checkout"},
		{Name: "check"},
		{Name: "checkout-api"},
		{Name: "payments"},
		{Name: "orders", Alarms: []string{"HighErrorRate-Order*", "legacy-queue-depth"}},
		{Name: "fulfilment", Alarms: []string{"HighErrorRate-*"}},
		{Name: "search", Alarms: []string{"checkout-search-latency"}},
	}
	tests := []struct {
		name        string
		alarm       string
		description string
		tags        map[string]string
		def         string
		want        Route
	}{
		{"service and severity markers", "cpu-high", "CPU high. incidentd:service=payments incidentd:severity=SEV1", nil, "",
			Route{Service: "payments", Severity: incident.SEV1, By: ByDescription}},
		{"marker beats the Alarms lists and the name", "HighErrorRate-OrderProcessor", "incidentd:service=checkout", nil, "",
			Route{Service: "checkout", By: ByDescription}},
		{"marker anywhere, any case", "x", "Owner: team web.\nINCIDENTD:SERVICE=Checkout.", nil, "",
			Route{Service: "checkout", By: ByDescription}},
		{"marker for a service not configured", "x", "incidentd:service=billing", nil, "",
			Route{Service: "billing", By: ByDescription}},
		{"invalid marker falls through", "checkout-cpu", "incidentd:service=_bad incidentd:severity=SEV9", nil, "",
			Route{Service: "checkout", By: ByName, Warnings: []string{
				`ignored incidentd:service description-marker: service "_bad" is not a valid name (lower-case letters, digits, '.', '_', '-'; 1-63 characters)`,
				`ignored incidentd:severity: severity "SEV9" is not one of SEV1, SEV2, SEV3, SEV4`}}},
		{"severity marker with the name convention", "payments-degraded", "incidentd:severity=2", nil, "",
			Route{Service: "payments", Severity: incident.SEV2, By: ByName}},
		{"tag markers", "cpu-high", "", map[string]string{"incidentd:service": "orders", "Incidentd:Severity": "SEV3"}, "",
			Route{Service: "orders", Severity: incident.SEV3, By: ByTag}},
		{"exact Alarms entry beats a prefix", "legacy-queue-depth", "", nil, "",
			Route{Service: "orders", By: ByAlarmsList}},
		{"longer Alarms prefix wins", "HighErrorRate-OrderProcessor", "", nil, "",
			Route{Service: "orders", By: ByAlarmsList}},
		{"shorter Alarms prefix", "HighErrorRate-Shipping", "", nil, "",
			Route{Service: "fulfilment", By: ByAlarmsList}},
		{"Alarms list beats the name convention", "checkout-search-latency", "", nil, "",
			Route{Service: "search", By: ByAlarmsList}},
		{"longest service name at a separator", "checkout-api-5xx", "", nil, "",
			Route{Service: "checkout-api", By: ByName}},
		{"dash", "checkout-cpu", "", nil, "", Route{Service: "checkout", By: ByName}},
		{"underscore", "checkout_cpu", "", nil, "", Route{Service: "checkout", By: ByName}},
		{"slash", "checkout/cpu", "", nil, "", Route{Service: "checkout", By: ByName}},
		{"colon", "checkout:cpu", "", nil, "", Route{Service: "checkout", By: ByName}},
		{"dot", "checkout.cpu", "", nil, "", Route{Service: "checkout", By: ByName}},
		{"space", "checkout cpu", "", nil, "", Route{Service: "checkout", By: ByName}},
		{"case", "Checkout-HighCPU", "", nil, "", Route{Service: "checkout", By: ByName}},
		{"whole name", "payments", "", nil, "", Route{Service: "payments", By: ByName}},
		{"no separator after the name", "checkoutcpu", "", nil, "", Route{Service: "ops", By: ByDefault}},
		{"prefix of a longer word is not the service", "checking-disk", "", nil, "", Route{Service: "ops", By: ByDefault}},
		{"unknown alarm goes to the default service", "nightly-export-failures", "", nil, "ops",
			Route{Service: "ops", By: ByDefault}},
		{"no default configured", "nightly-export-failures", "", nil, "-",
			Route{Service: incident.DefaultServiceName, By: ByDefault}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := tt.def
			switch def {
			case "":
				def = "ops"
			case "-":
				def = ""
			}
			n := Notification{AlarmName: tt.alarm, Description: tt.description, Tags: tt.tags}
			if got := Resolve(n, services, def); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
