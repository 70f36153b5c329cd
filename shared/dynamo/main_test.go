package dynamo_test

import (
	"os"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/clock/clocktest"
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// newClock returns a clock at the current second, for the service and the
// store to share.
func newClock() *clocktest.Clock { return clocktest.New(time.Now().UTC().Truncate(time.Second)) }

// newService returns a service over a fresh table; the store and the service
// read the same clock.
func newService(t testing.TB, c *clocktest.Clock, rules incident.Rules) (*incident.Service, *dynamo.Store) {
	t.Helper()
	if c == nil {
		store := dynamotest.Store(t)
		return incident.NewService(store, rules), store
	}
	store := dynamotest.Store(t, dynamo.WithClock(c.Now))
	return incident.NewService(store, rules, incident.WithClock(c.Now)), store
}
