// Package postmortemjob is the postmortem function (functions/postmortem):
// on an incident's lifecycle event incident.resolved or
// incident.postmortem_updated (from IncidentEventsTopic, README "Incident
// events"), it renders the incident's post-mortem (package postmortem),
// stores it as a new version of postmortems/<incident id>.md when it differs
// from the stored one, records the version on the incident, and announces
// it in the incident's war-room channel.
//
// Redeliveries write nothing: the rendering is deterministic, and a
// rendering whose SHA-256 is the stored version's is not written again
// (Documents.Head). Every write is conditional on the version it replaces,
// and the stored version is read before the incident: a writer that read an
// older incident than another writer can only lose (errkind.Conflict, read
// again and decide again), so the latest version is always the rendering of
// the latest state either saw.
//
// Slack comes last, after the document is stored and linked: a Slack that
// is down (network, 5xx, rate limit) fails the invocation, and Lambda's
// retry of the event finds the document stored (no second version) and
// announces it then; a Slack answer that a retry will not change
// (channel_not_found, is_archived…, see Permanent) is logged and the
// announcement dropped. The version announced is kept on the incident
// (PostmortemLink.Announced), so one version is announced once.
package postmortemjob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/postmortem"
)

// EventTypes are the lifecycle events the function renders on (its SNS
// subscription's filter policy on event_type, infra/escalation).
var EventTypes = []string{
	incident.EventTypePrefix + string(incident.EntryResolved),
	incident.EventTypePrefix + string(incident.EntryPostmortemUpdated),
}

// Incidents reads what a post-mortem is made of (*dynamo.Store).
type Incidents interface {
	Incident(ctx context.Context, id string) (incident.Incident, error)
	Timeline(ctx context.Context, id string, limit int) ([]incident.Entry, bool, error)
	Reports(ctx context.Context, incidentID string) ([]incident.Report, error)
}

// Links records the document on the incident (*incident.Service).
type Links interface {
	RecordPostmortem(ctx context.Context, id string, link incident.PostmortemLink, readVersion int64) (incident.Incident, error)
}

// Deployments reads the linked deployment and the candidates of the
// suspected one (*dynamo.Store).
type Deployments interface {
	Deployment(ctx context.Context, id string) (deploy.Record, error)
	DeploymentsOf(ctx context.Context, service, environment string, from, to time.Time) ([]deploy.Record, error)
}

// Documents stores the documents (*s3.Documents).
type Documents interface {
	Head(ctx context.Context, key string) (postmortem.Object, bool, error)
	Put(ctx context.Context, key string, body []byte, prev postmortem.Object) (postmortem.Object, error)
}

// Slack announces a version in the war room (*slack.Notifier); nil: no
// announcements.
type Slack interface {
	PostPostmortem(ctx context.Context, channel string, inc incident.Incident, link incident.PostmortemLink) error
}

// ErrSlackOff is an announcement's answer when Slack is not configured (no
// bot token): nothing is announced, nor recorded as announced.
var ErrSlackOff = errors.New("slack is off: no bot token")

// PermanentError is an error that a retry will not change (a *slack.APIError
// with an error code but a rate limit or Slack's own failure).
type PermanentError interface {
	error
	Permanent() bool
}

// Config is what the job needs.
type Config struct {
	Incidents   Incidents
	Links       Links
	Deployments Deployments
	Documents   Documents
	Slack       Slack
	// SuspectWindow is DORA_SUSPECT_WINDOW (zero: dora's default).
	SuspectWindow time.Duration
	Logger        *slog.Logger
}

// TimelineLimit bounds the entries a post-mortem lists: the first and the
// newest TimelineLimit (the document says when some were left out).
const TimelineLimit = 500

// attempts bounds the rounds of a render lost to another writer.
const attempts = 3

// Job renders, stores, links and announces post-mortems.
type Job struct{ cfg Config }

// New returns the job.
func New(cfg Config) *Job {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SuspectWindow <= 0 {
		cfg.SuspectWindow = dora.DefaultSuspectWindow
	}
	return &Job{cfg: cfg}
}

// Handle is the Lambda handler: each SNS record is a lifecycle event.
// An error fails the invocation, which Lambda retries (twice, then the
// function's failure queue).
func (j *Job) Handle(ctx context.Context, ev events.SNSEvent) error {
	var errs []error
	for _, r := range ev.Records {
		var e incident.Event
		if err := json.Unmarshal([]byte(r.SNS.Message), &e); err != nil {
			// Not one of ours: retrying will not parse it either.
			j.cfg.Logger.ErrorContext(ctx, "event dropped: not a lifecycle event", slog.String("message_id", r.SNS.MessageID), slog.Any("error", err))
			continue
		}
		if !wanted(e.Type) {
			j.cfg.Logger.InfoContext(ctx, "event ignored", slog.String("event_type", e.Type), slog.String("incident_id", e.Incident.ID))
			continue
		}
		if _, err := j.Run(ctx, e.Incident.ID); err != nil {
			errs = append(errs, fmt.Errorf("event %s: %w", e.EventID, err))
		}
	}
	return errors.Join(errs...)
}

func wanted(t string) bool {
	for _, w := range EventTypes {
		if t == w {
			return true
		}
	}
	return false
}

// Outcome is what a run did.
type Outcome struct {
	// Rendered: the incident is resolved and its document was rendered.
	Rendered bool
	// Written: a new version was stored (false: the stored one is the same).
	Written   bool
	Announced bool
	Object    postmortem.Object
}

// Run renders the post-mortem of incident id and stores, links and
// announces it as the package doc says. An incident that does not exist,
// or is not resolved, is left alone (a reopened incident's document is
// rendered again at its next resolution).
func (j *Job) Run(ctx context.Context, id string) (Outcome, error) {
	log := j.cfg.Logger.With(slog.String("incident_id", id))
	key := postmortem.Key(id)
	for attempt := 1; ; attempt++ {
		out, inc, err := j.store(ctx, id, key)
		if errors.Is(err, errkind.Conflict) && attempt < attempts {
			log.InfoContext(ctx, "post-mortem written by another run meanwhile: rendering again", slog.Any("error", err))
			continue
		}
		if errors.Is(err, errkind.NotFound) {
			log.WarnContext(ctx, "post-mortem not rendered: no such incident")
			return Outcome{}, nil
		}
		if err != nil || !out.Rendered {
			return out, err
		}
		if out.Written {
			log.InfoContext(ctx, "post-mortem written", slog.String("key", key), slog.String("version_id", out.Object.VersionID))
		} else {
			log.InfoContext(ctx, "post-mortem unchanged: nothing written", slog.String("key", key), slog.String("version_id", out.Object.VersionID))
		}
		out.Announced, err = j.announce(ctx, log, inc)
		return out, err
	}
}

// store renders and writes the document, and links it on the incident.
func (j *Job) store(ctx context.Context, id, key string) (Outcome, incident.Incident, error) {
	// The stored version first, then the incident: see the package doc.
	prev, found, err := j.cfg.Documents.Head(ctx, key)
	if err != nil {
		return Outcome{}, incident.Incident{}, err
	}
	inc, err := j.cfg.Incidents.Incident(ctx, id)
	if err != nil {
		return Outcome{}, incident.Incident{}, err
	}
	if inc.Status != incident.StatusResolved {
		j.cfg.Logger.InfoContext(ctx, "post-mortem not rendered: the incident is "+string(inc.Status), slog.String("incident_id", id))
		return Outcome{}, inc, nil
	}
	in, err := j.input(ctx, inc)
	if err != nil {
		return Outcome{}, inc, err
	}
	body, err := postmortem.Markdown(in)
	if err != nil {
		return Outcome{}, inc, err
	}
	out := Outcome{Rendered: true, Object: prev}
	if !found || prev.SHA256 != postmortem.Digest(body) {
		if !found {
			prev = postmortem.Object{}
		}
		if out.Object, err = j.cfg.Documents.Put(ctx, key, body, prev); err != nil {
			return Outcome{}, inc, err
		}
		out.Written = true
	}
	link := incident.PostmortemLink{Key: key, VersionID: out.Object.VersionID, SHA256: postmortem.Digest(body)}
	if inc.Postmortem != nil {
		link.Announced = inc.Postmortem.Announced
	}
	if inc, err = j.cfg.Links.RecordPostmortem(ctx, id, link, inc.Version); err != nil {
		return Outcome{}, inc, fmt.Errorf("link post-mortem %s: %w", out.Object.VersionID, err)
	}
	return out, inc, nil
}

// input reads what the document is made of besides the incident.
func (j *Job) input(ctx context.Context, inc incident.Incident) (postmortem.Input, error) {
	in := postmortem.Input{Incident: inc, SuspectWindow: j.cfg.SuspectWindow}
	var err error
	if in.Timeline, in.Truncated, err = j.cfg.Incidents.Timeline(ctx, inc.ID, TimelineLimit); err != nil {
		return in, err
	}
	if in.Reports, err = j.cfg.Incidents.Reports(ctx, inc.ID); err != nil {
		return in, err
	}
	if inc.CauseDeploymentID != "" {
		d, err := j.cfg.Deployments.Deployment(ctx, inc.CauseDeploymentID)
		switch {
		case err == nil:
			in.Cause = &d
		case !errors.Is(err, errkind.NotFound):
			return in, fmt.Errorf("read deployment %s: %w", inc.CauseDeploymentID, err)
		}
	}
	if !inc.StartedAt.IsZero() {
		// [started − window, started]: the rule's bounds, both included.
		from, to := inc.StartedAt.Add(-j.cfg.SuspectWindow), inc.StartedAt.Add(time.Nanosecond)
		if in.Deployments, err = j.cfg.Deployments.DeploymentsOf(ctx, inc.Service, dora.DefaultEnvironment, from, to); err != nil {
			return in, err
		}
	}
	return in, nil
}

// announce posts the linked version in the war room unless it was.
func (j *Job) announce(ctx context.Context, log *slog.Logger, inc incident.Incident) (bool, error) {
	link := inc.Postmortem
	if link == nil || link.Announced == link.VersionID || j.cfg.Slack == nil {
		return false, nil
	}
	if inc.WarRoomChannel == "" {
		log.InfoContext(ctx, "post-mortem not announced: the incident has no war-room channel")
		return false, nil
	}
	err := j.cfg.Slack.PostPostmortem(ctx, inc.WarRoomChannel, inc, *link)
	var p PermanentError
	switch {
	case errors.Is(err, ErrSlackOff):
		return false, nil
	case err != nil && errors.As(err, &p) && p.Permanent():
		log.ErrorContext(ctx, "post-mortem announcement dropped: Slack refused it", slog.String("channel", inc.WarRoomChannel), slog.Any("error", err))
	case err != nil:
		// The document is stored and linked; the retry announces it.
		return false, fmt.Errorf("announce post-mortem of %s in %s: %w", inc.ID, inc.WarRoomChannel, err)
	}
	l := *link
	l.Announced = l.VersionID
	if _, err := j.cfg.Links.RecordPostmortem(ctx, inc.ID, l, inc.Version); err != nil {
		// Posted: failing now would post it again. A later version is
		// announced as usual.
		log.WarnContext(ctx, "post-mortem announced but not recorded", slog.Any("error", err))
	}
	return err == nil, nil
}
