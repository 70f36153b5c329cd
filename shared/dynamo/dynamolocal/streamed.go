package dynamolocal

import (
	"context"
	"sync"

	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/incident"
)

// Streamed is a store that also hands over the pending signals it wrote
// (incidenttest.Streamed), as the table's stream would deliver them to the
// stream function, for tests and benchmarks to fold (incident.Service.Fold)
// without a stream poller. Every read and write is the store's; only the
// stream's delivery is stood in for.
type Streamed struct {
	*dynamo.Store

	mu      sync.Mutex
	pending []incident.PendingSignal
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
