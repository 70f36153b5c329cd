package logscan

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/errkind"
)

// A log batch delivered while the store is down fails the invocation with an
// error matching errkind.Unavailable, so that Lambda delivers it again; the
// redelivery, with the store back, opens the incident.
func TestStoreDownFailsInvocation(t *testing.T) {
	f := dynamotest.NewFaults(t)
	e := newEnvWith(t, dynamo.New(f, dynamotest.NewTable(t)), func() time.Time { return fixtureNow })
	ev := readEvent(t, filepath.Join(eventsDir, "logs-json-errors.json"))
	f.SetDown(true)
	if _, err := e.h.Handle(context.Background(), ev); !errors.Is(err, errkind.Unavailable) {
		t.Fatalf("got error %v, want one matching unavailable so that the batch is retried", err)
	}
	f.SetDown(false)
	e.replay(t, ev)
	if n := len(e.incidents(t)); n != 1 {
		t.Errorf("store back: got %d incidents, want 1", n)
	}
}
