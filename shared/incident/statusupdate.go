package incident

import (
	"context"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
)

// EntryStatusUpdate is a note meant for the public: the status page shows
// the latest one of each incident (README, "Status page"). Other notes are
// internal and never appear there.
const EntryStatusUpdate EntryKind = "status_update"

// PublicUpdate is an incident's latest status update: what the status page
// says about it. Who wrote it stays in the timeline.
type PublicUpdate struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

func (u *PublicUpdate) utc() *PublicUpdate {
	if u == nil {
		return nil
	}
	return &PublicUpdate{At: u.At.UTC(), Text: u.Text}
}

// MaxStatusUpdate bounds a status update: a paragraph for the public, not
// a log.
const MaxStatusUpdate = 1000

// PostStatusUpdate records a status update (a note meant for the public) in
// the incident's timeline and makes it the incident's PublicUpdate, open or
// resolved.
func (s *Service) PostStatusUpdate(ctx context.Context, id, actor, text string) (Entry, error) {
	if err := checkActor(actor); err != nil {
		return Entry{}, err
	}
	text = strings.TrimSpace(cleanLines(text))
	if text == "" {
		return Entry{}, errkind.Invalidf("text is required (a note of only control characters is empty once they are removed)")
	}
	if len(text) > MaxStatusUpdate {
		return Entry{}, errkind.Invalidf("text of a public note is %d bytes long, at most %d", len(text), MaxStatusUpdate)
	}
	var e Entry
	_, err := s.mutate(ctx, id, "post status update", func(inc *Incident, now time.Time) ([]Entry, *DedupRecord, error) {
		e = newEntry(now, EntryStatusUpdate, actor, text)
		inc.PublicUpdate = &PublicUpdate{At: now, Text: text}
		return []Entry{e}, nil, nil
	})
	return e, err
}
