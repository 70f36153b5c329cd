package dynamo_test

import (
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamotest"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/incident/incidenttest"
)

// The DynamoDB store passes the contract the in-memory store passes, on
// DynamoDB Local: timeline bounds, pagination and concurrent writes.
func TestStoreContract(t *testing.T) {
	incidenttest.StoreContract(t, func(t *testing.T, now func() time.Time) incident.Store {
		return dynamotest.StreamedStore(t, dynamo.WithClock(now))
	})
}
