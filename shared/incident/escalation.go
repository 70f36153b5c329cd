package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/text"
)

// Timeline entry kinds written by the escalation.
const (
	// EntryPaged records one responder paged at one escalation step.
	EntryPaged EntryKind = "paged"
	// EntryWarRoomOpened records the war-room channel; its Ref is the channel id.
	EntryWarRoomOpened EntryKind = "war_room_opened"
	// EntryWarRoomFailed records why the war room could not be opened.
	EntryWarRoomFailed EntryKind = "war_room_failed"
)

// pageRecordTTL is how long a page's record keeps a retried step from paging
// again: far longer than any escalation runs.
const pageRecordTTL = 30 * 24 * time.Hour

// PageRecord is one page sent to one responder at one escalation step.
type PageRecord struct {
	// Key identifies the page: the same step paging the same responder again
	// (a retried task) has the same key and is not recorded twice.
	Key       string
	Responder string
	// Level is the policy level paged (from 1); 0 for the fallback.
	Level  int
	Repeat int
	// Actor is who paged, e.g. "escalation".
	Actor string
}

// Incident returns the incident with the given id, without its timeline.
func (s *Service) Incident(ctx context.Context, id string) (Incident, error) {
	if !ValidID(id) {
		return Incident{}, errkind.NotFoundf("incident %q not found", id)
	}
	return s.store.Incident(ctx, id)
}

// PageRecorded reports whether the page with key was recorded by RecordPage.
func (s *Service) PageRecorded(ctx context.Context, key string) (bool, error) {
	return s.recorded(ctx, key, "page")
}

// recorded reports whether a record (of what: "page", ...) is kept under key,
// as a delivery record.
func (s *Service) recorded(ctx context.Context, key, what string) (bool, error) {
	if key == "" {
		return false, errkind.Invalidf("%s key is required", what)
	}
	_, err := s.store.Delivery(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errkind.NotFound):
		return false, nil
	}
	return false, fmt.Errorf("read %s record %s: %w", what, key, err)
}

// RecordPage adds a paged entry to the incident's timeline, once per key: a
// page recorded before returns errkind.Duplicate and adds nothing.
func (s *Service) RecordPage(ctx context.Context, id string, p PageRecord) (Entry, error) {
	if p.Key == "" || strings.TrimSpace(p.Responder) == "" {
		return Entry{}, errkind.Invalidf("page key and responder are required")
	}
	if err := checkActor(p.Actor); err != nil {
		return Entry{}, err
	}
	if !ValidID(id) {
		return Entry{}, errkind.NotFoundf("incident %q not found", id)
	}
	text := fmt.Sprintf("paged %s (level %d", p.Responder, p.Level)
	if p.Level == 0 {
		text = fmt.Sprintf("paged %s (fallback", p.Responder)
	}
	if p.Repeat > 0 {
		text += fmt.Sprintf(", repeat %d", p.Repeat)
	}
	text += ")"
	return retry(ctx, "record page on "+id, func() (Entry, error) {
		cur, err := s.store.Incident(ctx, id)
		if err != nil {
			return Entry{}, err
		}
		e := newEntry(s.now(), EntryPaged, p.Actor, text)
		e.Ref = p.Responder
		cur.UpdatedAt = e.At
		err = s.store.Apply(ctx, Change{
			Kind: Touch, Incident: cur, Entries: []Entry{e},
			DeliveryID: p.Key, DeliveryExpires: e.At.Add(pageRecordTTL),
			Result: Result{Outcome: Noted, IncidentID: id},
		})
		if err != nil {
			return Entry{}, err
		}
		return e, nil
	})
}

// SetWarRoom records the incident's war-room channel (its Slack id) with a
// war_room_opened entry naming it. An incident keeps its first war room: when
// it already has one, nothing changes and the returned incident names it.
func (s *Service) SetWarRoom(ctx context.Context, id, actor, channelID, channelName string) (Incident, error) {
	if err := checkActor(actor); err != nil {
		return Incident{}, err
	}
	if strings.TrimSpace(channelID) == "" || len(channelID) > 200 || len(channelName) > 200 {
		return Incident{}, errkind.Invalidf("channel id is required; channel id and name are at most 200 bytes")
	}
	return s.mutate(ctx, id, "set war room", func(inc *Incident, now time.Time) ([]Entry, *DedupRecord, error) {
		if inc.WarRoomChannel != "" {
			return nil, nil, nil
		}
		inc.WarRoomChannel = channelID
		e := newEntry(now, EntryWarRoomOpened, actor, "#"+channelName)
		e.Ref = channelID
		return []Entry{e}, nil, nil
	})
}

// RecordWarRoomFailure adds a war_room_failed entry saying why.
func (s *Service) RecordWarRoomFailure(ctx context.Context, id, actor, reason string) (Entry, error) {
	if err := checkActor(actor); err != nil {
		return Entry{}, err
	}
	if !ValidID(id) {
		return Entry{}, errkind.NotFoundf("incident %q not found", id)
	}
	reason = text.Clip(strings.TrimSpace(reason), maxNote, "…", text.Bytes)
	return retry(ctx, "record war room failure on "+id, func() (Entry, error) {
		cur, err := s.store.Incident(ctx, id)
		if err != nil {
			return Entry{}, err
		}
		e := newEntry(s.now(), EntryWarRoomFailed, actor, reason)
		cur.UpdatedAt = e.At
		if err := s.store.Apply(ctx, Change{Kind: Touch, Incident: cur, Entries: []Entry{e}}); err != nil {
			return Entry{}, err
		}
		return e, nil
	})
}
