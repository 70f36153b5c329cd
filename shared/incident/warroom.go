package incident

import (
	"context"
	"errors"

	"github.com/incidentd/incidentd/shared/errkind"
)

// warRoomReadyKey is the record of a war room whose setup (topic,
// invitations, summary) went to the end.
func warRoomReadyKey(id string) string { return "warroom-ready#" + id }

// WarRoomReady reports whether the incident's war room was set up to the end
// (MarkWarRoomReady). A war room recorded but not ready is one whose setup
// failed part way: a retry finishes it.
func (s *Service) WarRoomReady(ctx context.Context, id string) (bool, error) {
	return s.recorded(ctx, warRoomReadyKey(id), "war-room ready")
}

// MarkWarRoomReady records that the incident's war room is set up. Marking
// it twice is not an error.
func (s *Service) MarkWarRoomReady(ctx context.Context, id string) error {
	if !ValidID(id) {
		return errkind.NotFoundf("incident %q not found", id)
	}
	_, err := retry(ctx, "mark war room ready on "+id, func() (struct{}, error) {
		cur, err := s.store.Incident(ctx, id)
		if err != nil {
			return struct{}{}, err
		}
		now := s.now()
		cur.UpdatedAt = now
		return struct{}{}, s.store.Apply(ctx, Change{
			Kind: Touch, Incident: cur,
			DeliveryID: warRoomReadyKey(id), DeliveryExpires: now.Add(pageRecordTTL),
			Result: Result{Outcome: Noted, IncidentID: id},
		})
	})
	if errors.Is(err, errkind.Duplicate) {
		return nil
	}
	return err
}

// WarRoomIncident returns the id of the incident whose war-room channel is
// channel (its Slack id), whatever the incident's status, or errkind.NotFound.
func (s *Service) WarRoomIncident(ctx context.Context, channel string) (string, error) {
	if channel == "" {
		return "", errkind.NotFoundf("no channel")
	}
	return s.store.WarRoomIncident(ctx, channel)
}
