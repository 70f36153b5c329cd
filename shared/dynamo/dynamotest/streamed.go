package dynamotest

import (
	"context"
	"sync"
	"testing"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/incident"
)

// Streamed is a store over a fresh table that also hands over the pending
// signals it wrote (incidenttest.Streamed), as the table's stream would
// deliver them to the stream function: tests fold them with
// incidenttest.CatchUp. Every read and write is DynamoDB Local's; only the
// stream's delivery is stood in for.
type Streamed struct {
	*dynamo.Store

	mu      sync.Mutex
	pending []incident.PendingSignal
}

// StreamedStore returns a Streamed over a fresh table.
func StreamedStore(tb testing.TB, opts ...dynamo.Option) *Streamed {
	tb.Helper()
	return &Streamed{Store: Store(tb, opts...)}
}

// AddSignal writes p and keeps it for TakePending.
func (s *Streamed) AddSignal(ctx context.Context, p incident.PendingSignal) (incident.Result, error) {
	res, err := s.Store.AddSignal(ctx, p)
	if err == nil {
		s.mu.Lock()
		s.pending = append(s.pending, p)
		s.mu.Unlock()
	}
	return res, err
}

// TakePending returns the pending signals written since the last call.
func (s *Streamed) TakePending() []incident.PendingSignal {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending
	s.pending = nil
	return p
}
