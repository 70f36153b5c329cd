package escalation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

// WarRoomInput is OpenWarRoom's input. State, when given, is the escalation
// state (the one the first page left, or the one the execution started
// with): the people its policy's first step pages are invited.
type WarRoomInput struct {
	IncidentID string             `json:"incident_id"`
	State      *oncall.Escalation `json:"state,omitempty"`
}

// WarRoomOutput is OpenWarRoom's output: the channel, or nothing when there is
// no incident to open one for (Reason says why).
type WarRoomOutput struct {
	ChannelID   string `json:"channel_id"`
	ChannelName string `json:"channel_name"`
	Reason      string `json:"reason,omitempty"`
}

// WarRoomIncidents is what OpenWarRoom needs of the incident service.
type WarRoomIncidents interface {
	Incident(ctx context.Context, id string) (incident.Incident, error)
	Get(ctx context.Context, id string) (incident.Incident, []incident.Entry, bool, error)
	SetWarRoom(ctx context.Context, id, actor, channelID, channelName string) (incident.Incident, error)
	RecordWarRoomFailure(ctx context.Context, id, actor, reason string) (incident.Entry, error)
	WarRoomReady(ctx context.Context, id string) (bool, error)
	MarkWarRoomReady(ctx context.Context, id string) error
}

// WarRoomSlack is what OpenWarRoom needs of Slack (slack.Notifier).
type WarRoomSlack interface {
	// OpenChannel creates inc's war-room channel (named after the incident;
	// a name taken gets a suffix) and returns its id and name.
	OpenChannel(ctx context.Context, inc incident.Incident) (id, name string, err error)
	// SetTopic sets the channel's topic to inc's.
	SetTopic(ctx context.Context, channel string, inc incident.Incident) error
	// Invite adds Slack users to the channel; users already in it are not
	// an error.
	Invite(ctx context.Context, channel string, slackUserIDs []string) error
	// PostSummary posts inc's summary to the channel.
	PostSummary(ctx context.Context, channel string, inc incident.Incident) error
}

// WarRoomConfig wires a WarRoom.
type WarRoomConfig struct {
	Incidents WarRoomIncidents
	Directory Directory
	// Slack opens the channel; nil (no bot token): no war rooms.
	Slack WarRoomSlack
	// Stakeholders are Slack user ids invited to every war room.
	Stakeholders []string
	Logger       *slog.Logger
	Now          func() time.Time
}

// WarRoom runs OpenWarRoom.
type WarRoom struct{ cfg WarRoomConfig }

// NewWarRoom returns a WarRoom.
func NewWarRoom(cfg WarRoomConfig) *WarRoom {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &WarRoom{cfg: cfg}
}

// Handle is the Lambda handler: Open over the task's JSON.
func (w *WarRoom) Handle(ctx context.Context, in WarRoomInput) (WarRoomOutput, error) {
	return w.Open(ctx, in)
}

// Open creates the incident's war-room channel, sets its topic, invites the
// first step's on-call people and the stakeholders, posts the summary and
// records the channel on the incident. An incident that has a war room gets it
// back (a retried task opens no second channel), and a war room whose setup
// failed part way is finished (topic, invitations, summary; the summary is
// posted once the rest succeeded, and recorded). A Slack failure is recorded
// on the timeline (war_room_failed) and returned: the state machine catches
// it and pages on.
func (w *WarRoom) Open(ctx context.Context, in WarRoomInput) (WarRoomOutput, error) {
	log := w.cfg.Logger.With(slog.String("incident_id", in.IncidentID))
	if !incident.ValidID(in.IncidentID) {
		log.WarnContext(ctx, "war room rejected: not an incident id")
		return WarRoomOutput{Reason: "incident_id is not an incident id"}, nil
	}
	inc, err := w.cfg.Incidents.Incident(ctx, in.IncidentID)
	if errors.Is(err, errkind.NotFound) {
		log.WarnContext(ctx, "war room not opened: incident not found")
		return WarRoomOutput{Reason: "incident not found"}, nil
	}
	if err != nil {
		return WarRoomOutput{}, fmt.Errorf("read incident: %w", err)
	}
	if inc.WarRoomChannel != "" {
		out, err := w.existing(ctx, inc)
		if err != nil || w.cfg.Slack == nil {
			return out, err
		}
		ready, err := w.cfg.Incidents.WarRoomReady(ctx, inc.ID)
		if err != nil {
			return out, fmt.Errorf("read war room state: %w", err)
		}
		if ready {
			return out, nil
		}
		log.InfoContext(ctx, "finishing the war room's setup", slog.String("channel_id", out.ChannelID))
		return out, w.setUp(ctx, log, inc, out, in.State)
	}
	if w.cfg.Slack == nil {
		log.InfoContext(ctx, "war room not opened: Slack is not configured")
		return WarRoomOutput{Reason: "slack is not configured"}, nil
	}
	chID, chName, err := w.cfg.Slack.OpenChannel(ctx, inc)
	if err != nil {
		return WarRoomOutput{}, w.failed(ctx, log, inc.ID, fmt.Errorf("create channel: %w", err))
	}
	// Recorded before the rest, so that a retry after a later failure finds
	// the channel instead of creating another.
	got, err := w.cfg.Incidents.SetWarRoom(ctx, inc.ID, Actor, chID, chName)
	if err != nil {
		return WarRoomOutput{}, fmt.Errorf("record war room %s: %w", chID, err)
	}
	if got.WarRoomChannel != chID {
		// Another invocation recorded its channel first; ours stays unused.
		log.WarnContext(ctx, "war room opened twice; keeping the first", slog.String("unused_channel", chID))
		return w.existing(ctx, got)
	}
	out := WarRoomOutput{ChannelID: chID, ChannelName: chName}
	return out, w.setUp(ctx, log, got, out, in.State)
}

// setUp sets the war room's topic, invites the on-call people and the
// stakeholders, posts the summary and marks the war room ready. Topic and
// invitations are idempotent; the summary is posted after them, so a retry
// after a failure posts it once (unless the failure was the ready mark's).
func (w *WarRoom) setUp(ctx context.Context, log *slog.Logger, inc incident.Incident, room WarRoomOutput, state *oncall.Escalation) error {
	name := room.ChannelName
	if name == "" {
		name = room.ChannelID
	}
	if err := w.cfg.Slack.SetTopic(ctx, room.ChannelID, inc); err != nil {
		return w.failed(ctx, log, inc.ID, fmt.Errorf("set topic of %s: %w", name, err))
	}
	if users := append(w.onCall(ctx, log, state), w.cfg.Stakeholders...); len(users) > 0 {
		if err := w.cfg.Slack.Invite(ctx, room.ChannelID, users); err != nil {
			return w.failed(ctx, log, inc.ID, fmt.Errorf("invite to %s: %w", name, err))
		}
	}
	if err := w.cfg.Slack.PostSummary(ctx, room.ChannelID, inc); err != nil {
		return w.failed(ctx, log, inc.ID, fmt.Errorf("post summary to %s: %w", name, err))
	}
	if err := w.cfg.Incidents.MarkWarRoomReady(ctx, inc.ID); err != nil {
		return fmt.Errorf("mark war room %s ready: %w", room.ChannelID, err)
	}
	log.InfoContext(ctx, "war room opened", slog.String("channel_id", room.ChannelID), slog.String("channel_name", room.ChannelName))
	return nil
}

// existing returns the war room inc already has, named as its
// war_room_opened entry says.
func (w *WarRoom) existing(ctx context.Context, inc incident.Incident) (WarRoomOutput, error) {
	out := WarRoomOutput{ChannelID: inc.WarRoomChannel}
	_, tl, _, err := w.cfg.Incidents.Get(ctx, inc.ID)
	if err != nil {
		return WarRoomOutput{}, fmt.Errorf("read timeline: %w", err)
	}
	for _, e := range tl {
		if e.Kind == incident.EntryWarRoomOpened && e.Ref == inc.WarRoomChannel {
			out.ChannelName = strings.TrimPrefix(e.Text, "#")
		}
	}
	return out, nil
}

// failed records err on the timeline and returns it.
func (w *WarRoom) failed(ctx context.Context, log *slog.Logger, id string, err error) error {
	log.ErrorContext(ctx, "war room failed", slog.Any("error", err))
	if _, rerr := w.cfg.Incidents.RecordWarRoomFailure(ctx, id, Actor, err.Error()); rerr != nil {
		return errors.Join(err, fmt.Errorf("record the failure: %w", rerr))
	}
	return err
}

// onCall returns the Slack ids of the people the escalation's first step
// pages; a directory failure only costs the invitations. The state machine
// runs OpenWarRoom after the first page, with the state that page left (its
// step the next one): the first step is the policy's start, whatever state's
// step says.
func (w *WarRoom) onCall(ctx context.Context, log *slog.Logger, state *oncall.Escalation) []string {
	if state == nil || w.cfg.Directory == nil {
		return nil
	}
	first := oncall.Start(state.Policy, state.Fallback)
	state = &first
	schedules, err := w.cfg.Directory.Schedules(ctx, state.ScheduleIDs())
	if err != nil {
		log.WarnContext(ctx, "on-call people not invited", slog.Any("error", err))
		return nil
	}
	var ids []string
	for _, user := range state.Fire(schedules, w.cfg.Now()).Users {
		u, err := w.cfg.Directory.User(ctx, user)
		if err != nil {
			log.WarnContext(ctx, "responder not invited", slog.String("responder", user), slog.Any("error", err))
			continue
		}
		if u.SlackUserID != "" {
			ids = append(ids, u.SlackUserID)
		}
	}
	return ids
}
