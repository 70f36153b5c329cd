package alarms

import (
	"context"
	"errors"
	"testing"
	"time"

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
