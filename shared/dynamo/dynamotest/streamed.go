package dynamotest

import (
	"testing"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/dynamo/dynamolocal"
)

// StreamedStore returns a store over a fresh table that hands over the
// pending signals it wrote (dynamolocal.Streamed): tests fold them with
// incidenttest.CatchUp, as the stream function would.
func StreamedStore(tb testing.TB, opts ...dynamo.Option) *dynamolocal.Streamed {
	tb.Helper()
	return &dynamolocal.Streamed{Store: Store(tb, opts...)}
}
