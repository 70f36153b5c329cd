package alarms

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
)

// An alarm delivered while the store is down fails the invocation with an
// error matching errkind.Unavailable (so that SNS, EventBridge or Lambda's
// async retries deliver it again) and is applied once the store is back.
func TestStoreDownFailsInvocation(t *testing.T) {
	f := dynamotest.NewFaults(t)
	e := newEnvWith(t, dynamo.New(f, dynamotest.NewTable(t)))
	payload := readFixture(t, "alarms-sns-metric.json")
	f.SetDown(true)
	_, err := e.h.Handle(context.Background(), payload)
	if !errors.Is(err, errkind.Unavailable) {
		t.Fatalf("got error %v, want one matching unavailable so that the delivery is retried", err)
	}
	f.SetDown(false)
	e.clock.Advance(2 * time.Minute) // past the service list's cache
	if it := e.invoke(t, payload).Items[0]; it.IncidentID == "" || it.Duplicate {
		t.Errorf("store back: got %+v, want an incident opened", it)
	}
}

// An alarm whose name and description carry control characters still opens
// its incident (event text is cleaned, never refused), with a clean title and
// timeline.
func TestAlarmTextIsCleaned(t *testing.T) {
	e := newEnv(t)
	msg := alarmMessage("checkout-cpu\x1b[2J\u202e", StateAlarm, "2026-11-23T10:15:42.100+0000", "CPU high\x07 on \x1b]0;pwned\x07checkout")
	it := e.invoke(t, snsEvent(t, msg)).Items[0]
	if it.IncidentID == "" {
		t.Fatalf("got %+v, want an incident opened", it)
	}
	inc, err := e.store.Incident(context.Background(), it.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if want := "checkout-cpu in ALARM"; inc.Title != want {
		t.Errorf("got title %q, want %q", inc.Title, want)
	}
	for _, en := range e.timeline(t, it.IncidentID) {
		if strings.ContainsFunc(en.Text, func(r rune) bool { return r != '\n' && unicode.IsControl(r) || r == '\u202e' }) {
			t.Errorf("got %s entry %q, want no control or bidi characters", en.Kind, en.Text)
		}
	}
}
