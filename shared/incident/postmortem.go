package incident

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
)

// Bounds of the post-mortem's fields (README "Post-mortems").
const (
	maxActionItems   = 50
	maxActionItemLen = 500
)

// PostmortemFields are the post-mortem's fields a person writes (PUT
// /incidents/{id}/postmortem). A nil field stays as it is; an empty one
// clears it.
type PostmortemFields struct {
	RootCause   *string
	Fix         *string
	ActionItems *[]string
	WentWell    *string
	WentWrong   *string
}

// normalize cleans and validates f, naming the field at fault.
func (f PostmortemFields) normalize() (PostmortemFields, error) {
	text := func(name string, v *string) (*string, error) {
		if v == nil {
			return nil, nil
		}
		t := strings.TrimSpace(cleanLines(*v))
		if len(t) > maxText {
			return nil, errkind.Invalidf("%s is %d bytes long, at most %d", name, len(t), maxText)
		}
		return &t, nil
	}
	var err error
	out := PostmortemFields{}
	if out.RootCause, err = text("root_cause", f.RootCause); err != nil {
		return out, err
	}
	if out.Fix, err = text("fix", f.Fix); err != nil {
		return out, err
	}
	if out.WentWell, err = text("went_well", f.WentWell); err != nil {
		return out, err
	}
	if out.WentWrong, err = text("went_wrong", f.WentWrong); err != nil {
		return out, err
	}
	if f.ActionItems != nil {
		if len(*f.ActionItems) > maxActionItems {
			return out, errkind.Invalidf("action_items has %d items, at most %d", len(*f.ActionItems), maxActionItems)
		}
		items := make([]string, 0, len(*f.ActionItems))
		for i, it := range *f.ActionItems {
			t := strings.TrimSpace(cleanLine(it))
			if t == "" {
				return out, errkind.Invalidf("action_items[%d] is empty", i)
			}
			if len(t) > maxActionItemLen {
				return out, errkind.Invalidf("action_items[%d] is %d bytes long, at most %d", i, len(t), maxActionItemLen)
			}
			items = append(items, t)
		}
		out.ActionItems = &items
	}
	if out.RootCause == nil && out.Fix == nil && out.ActionItems == nil && out.WentWell == nil && out.WentWrong == nil {
		return out, errkind.Invalidf("nothing to change: give root_cause, fix, action_items, went_well or went_wrong")
	}
	return out, nil
}

// UpdatePostmortem changes the post-mortem's fields of an incident, open or
// resolved, as one write conditional on the incident's version (a concurrent
// change is read again and the fields applied to it, so neither is lost).
// What changed is one postmortem_updated entry, which makes the postmortem
// function render the document again; a request that changes nothing writes
// nothing.
func (s *Service) UpdatePostmortem(ctx context.Context, id, actor string, f PostmortemFields) (Incident, error) {
	if err := checkActor(actor); err != nil {
		return Incident{}, err
	}
	f, err := f.normalize()
	if err != nil {
		return Incident{}, err
	}
	return s.mutate(ctx, id, "update post-mortem of", func(inc *Incident, now time.Time) ([]Entry, *DedupRecord, error) {
		var changed []string
		set := func(name string, dst *string, v *string) {
			if v != nil && *v != *dst {
				*dst = *v
				changed = append(changed, name)
			}
		}
		set("root cause", &inc.RootCause, f.RootCause)
		set("fix", &inc.Fix, f.Fix)
		if f.ActionItems != nil && !slices.Equal(*f.ActionItems, inc.ActionItems) {
			inc.ActionItems = slices.Clone(*f.ActionItems)
			if len(inc.ActionItems) == 0 {
				inc.ActionItems = nil
			}
			changed = append(changed, "action items")
		}
		set("what went well", &inc.WentWell, f.WentWell)
		set("what went wrong", &inc.WentWrong, f.WentWrong)
		if len(changed) == 0 {
			return nil, nil, nil
		}
		msg := fmt.Sprintf("post-mortem updated by %s: %s", actor, strings.Join(changed, ", "))
		return []Entry{newEntry(now, EntryPostmortemUpdated, actor, msg)}, nil, nil
	})
}

// RecordPostmortem records where the incident's post-mortem document is
// (the postmortem function, after writing or finding it). It adds no
// timeline entry: the document's own timeline must not change because it
// was stored. Recording the link the incident has already writes nothing.
//
// readVersion is the incident's version the document was rendered from (0:
// any). An incident changed since may have a newer document linked by a run
// that rendered the change: recording this one would put an older version
// back, so it is refused with errkind.Conflict, and the caller renders again
// (its document, if unchanged, is then found already stored).
func (s *Service) RecordPostmortem(ctx context.Context, id string, link PostmortemLink, readVersion int64) (Incident, error) {
	if !ValidID(id) {
		return Incident{}, errkind.NotFoundf("incident %q not found", id)
	}
	if link.Key == "" {
		return Incident{}, errkind.Invalidf("a post-mortem link needs its key")
	}
	return retry(ctx, "record post-mortem of "+id, func() (Incident, error) {
		cur, err := s.store.Incident(ctx, id)
		if err != nil {
			return Incident{}, err
		}
		if cur.Postmortem != nil && *cur.Postmortem == link {
			return cur, nil
		}
		if readVersion != 0 && cur.Version != readVersion {
			return Incident{}, errkind.Conflictf("incident %s changed since its post-mortem was rendered (version %d, now %d)", id, readVersion, cur.Version)
		}
		inc := cur
		l := link
		inc.Postmortem = &l
		inc.Version = cur.Version + 1
		// updated_at stays: the incident did not change, its document moved.
		if err := s.store.Apply(ctx, Change{Kind: Update, Incident: inc, ExpectVersion: cur.Version}); err != nil {
			return Incident{}, err
		}
		return inc, nil
	})
}
