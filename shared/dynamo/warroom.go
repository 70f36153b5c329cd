package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// warRoomItem maps a war-room channel (its Slack id) to its incident, so that
// `/incident` typed there finds the incident with one GetItem.
type warRoomItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	Type       string `dynamodbav:"type"`
	Channel    string `dynamodbav:"channel"`
	IncidentID string `dynamodbav:"incident_id"`
}

// warRoomWrites returns the Puts of the war-room items of a change: one per
// war_room_opened entry (its Ref is the channel), written in the change's
// transaction, so that the item exists exactly when the incident records the
// war room. A Put of the same item again is idempotent.
func (s *Store) warRoomWrites(id string, entries []incident.Entry) ([]types.TransactWriteItem, error) {
	var puts []types.TransactWriteItem
	for _, e := range entries {
		if e.Kind != incident.EntryWarRoomOpened || e.Ref == "" {
			continue
		}
		put, err := s.put(warRoomItem{PK: warRoomPK(e.Ref), SK: warRoomSK, Type: TypeWarRoom, Channel: e.Ref, IncidentID: id}, nil)
		if err != nil {
			return nil, err
		}
		puts = append(puts, put)
	}
	return puts, nil
}

// WarRoomIncident returns the id of the incident whose war room channel is,
// or errkind.NotFound: one GetItem.
func (s *Store) WarRoomIncident(ctx context.Context, channel string) (string, error) {
	var it warRoomItem
	found, err := s.get(ctx, warRoomPK(channel), warRoomSK, &it)
	if err != nil {
		return "", fmt.Errorf("read war room %s: %w", channel, err)
	}
	if !found || it.Channel != channel {
		return "", errkind.NotFoundf("channel %q is not an incident's war room", channel)
	}
	return it.IncidentID, nil
}
