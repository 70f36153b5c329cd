package incident

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
)

// Once names a one-time use of a capability: an acknowledge link's
// acknowledge or resolve (README, "Acknowledge from the page"). The action
// is recorded under Key as a delivery, in the transaction of the change it
// makes, so that the link cannot do it a second time, however often it is
// posted, and two concurrent posts make one change.
type Once struct {
	// Key is the record's id (a delivery id: e.g. "acklink#<link id>#acknowledge").
	Key string
	// Expires is when the store may drop the record (the link's expiry:
	// after it the link is refused anyway).
	Expires time.Time
}

// onceRecord is a Once with the outcome recorded.
type onceRecord struct {
	Once
	outcome Outcome
}

func (o *onceRecord) apply(ch *Change) {
	if o == nil {
		return
	}
	ch.DeliveryID, ch.DeliveryExpires = o.Key, o.Expires
	ch.Result = Result{Outcome: o.outcome, IncidentID: ch.Incident.ID}
}

// ErrUsed is returned by AcknowledgeOnce and ResolveOnce when their Once was
// used before; it matches errkind.Duplicate.
var ErrUsed = fmt.Errorf("already done with this link: %w", errkind.Duplicate)

// Used reports whether key was recorded by an action (AcknowledgeOnce,
// ResolveOnce).
func (s *Service) Used(ctx context.Context, key string) (bool, error) {
	_, err := s.store.Delivery(ctx, key)
	if errors.Is(err, errkind.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read use %s: %w", key, err)
	}
	return true, nil
}

// AcknowledgeOnce is Acknowledge, recorded under once. It returns ErrUsed
// when once was recorded before, and changed false when the incident was
// acknowledged (or further on) already: then nothing is recorded, and the
// link may still acknowledge after a reopen.
func (s *Service) AcknowledgeOnce(ctx context.Context, id, actor string, once Once) (_ Incident, changed bool, _ error) {
	if err := checkActor(actor); err != nil {
		return Incident{}, false, err
	}
	if err := s.checkUnused(ctx, once); err != nil {
		return Incident{}, false, err
	}
	return s.onceResult(s.mutateOnce(ctx, id, "acknowledge", &onceRecord{Once: once, outcome: Acknowledged}, acknowledgeChange(actor)))
}

// ResolveOnce is Resolve (without root cause or fix), recorded under once,
// as AcknowledgeOnce.
func (s *Service) ResolveOnce(ctx context.Context, id, actor string, once Once) (_ Incident, changed bool, _ error) {
	if err := checkActor(actor); err != nil {
		return Incident{}, false, err
	}
	if err := s.checkUnused(ctx, once); err != nil {
		return Incident{}, false, err
	}
	return s.onceResult(s.mutateOnce(ctx, id, "resolve", &onceRecord{Once: once, outcome: Resolved}, s.resolveChange(actor, Resolution{})))
}

func (s *Service) checkUnused(ctx context.Context, once Once) error {
	if once.Key == "" {
		return errkind.Invalidf("no use key")
	}
	used, err := s.Used(ctx, once.Key)
	if err != nil {
		return err
	}
	if used {
		return ErrUsed
	}
	return nil
}

// onceResult turns the store's Duplicate (a concurrent use won the race)
// into ErrUsed.
func (s *Service) onceResult(inc Incident, changed bool, err error) (Incident, bool, error) {
	if errors.Is(err, errkind.Duplicate) {
		return Incident{}, false, ErrUsed
	}
	return inc, changed, err
}
