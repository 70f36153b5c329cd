// Package escalation runs the two Lambda tasks of the escalation state machine
// (README.md, "How it works"; infra/README.md, "Escalation"): PageLevel
// (Escalator.Page: stop if someone acknowledged, otherwise page the on-call
// people of the current step and say how long to wait) and OpenWarRoom
// (WarRoom.Open: the incident's Slack channel). It holds no AWS types and
// imports no adapter: pages go out through Pager (an SNS adapter in
// shared/sns), the on-call data comes through Directory, Slack through Slack
// (pages) and WarRoomSlack (war rooms), both in domain terms (shared/slack's
// Notifier renders and sends them).
//
// The state machine carries the escalation state (oncall.Escalation, with the
// policy snapshotted when the incident opened) from one PageLevel to the next:
//
//	PageLevel input:  {"incident_id": "...", "execution": "...", "state": {"policy": {...}, "fallback": {...}, "step": {...}}}
//	PageLevel output: {"incident_id": "...", "execution": "...", "state": {... next step ...}, "done": false, "wait_seconds": 300, "paged": [...], "reopen_count": 0}
//
// The output is the next PageLevel's input: a Wait state with
// SecondsPath $.wait_seconds, then PageLevel again, until done.
//
// Step Functions retries a failed task, so a step must be safe to run twice:
// every page is recorded on the incident under a key made of the incident, the
// escalation run, the step and the responder, and a retried step skips the
// responders already recorded. A page is recorded after its SNS publish
// succeeds, so the one window for a second page is a crash between the two;
// the other order could drop a page, which is worse.
package escalation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

// Actor is who the escalation's timeline entries are by.
const Actor = "escalation"

// DefaultSlackTimeout bounds each Slack call of a step: Slack being slow must
// not hold the next level's page.
const DefaultSlackTimeout = 5 * time.Second

// maxSteps bounds the steps one invocation fires: every level of every pass,
// plus the fallback (Fire ends after that many whatever the state says).
const maxSteps = oncall.MaxLevels*(oncall.MaxRepeat+1) + 2

// Directory is where on-call data lives: schedules by id and responders.
type Directory interface {
	// Schedules returns the schedules of ids that exist; a missing one is left
	// out (it has nobody on call).
	Schedules(ctx context.Context, ids []string) (map[string]*oncall.Schedule, error)
	// User returns a responder, or an error matching errkind.NotFound.
	User(ctx context.Context, id string) (oncall.User, error)
}

// Pager sends pages (SNS publish to PagingTopic, filtered per responder:
// sns.Pager).
type Pager interface {
	Page(ctx context.Context, p oncall.ResponderPage) error
}

// Slack is what PageLevel needs of Slack (slack.Notifier).
type Slack interface {
	// PostPage posts inc's page of level lvl (0: the fallback) to the Slack
	// user slackUserID; it lands in their DM with the bot. It returns the
	// page as posted, Channel being the DM's id (not the user id, which
	// updating the message refuses), so that the page can be recorded and
	// closed later; Responder and At are left to the caller.
	PostPage(ctx context.Context, inc incident.Incident, lvl int, slackUserID string) (incident.SlackPage, error)
	// ClosePage replaces page p of inc with its answered version (no
	// buttons; answer, the acknowledged or resolved entry, says by whom).
	ClosePage(ctx context.Context, inc incident.Incident, p incident.SlackPage, answer incident.Entry) error
}

// SlackPages keeps the Slack pages of incidents (dynamo.Store).
type SlackPages interface {
	RecordSlackPage(ctx context.Context, p incident.SlackPage) error
}

// AckLinks makes the acknowledge links of SNS pages (acklink.Signer; README,
// "Acknowledge from the page").
type AckLinks interface {
	// URL is incidentID's link for responder, made at now.
	URL(incidentID, responder string, now time.Time) (string, error)
	// TTL is how long a link works.
	TTL() time.Duration
}

// Incidents is what the tasks need of the incident service.
type Incidents interface {
	Incident(ctx context.Context, id string) (incident.Incident, error)
	PageRecorded(ctx context.Context, key string) (bool, error)
	RecordPage(ctx context.Context, id string, p incident.PageRecord) (incident.Entry, error)
}

// Input is PageLevel's input.
type Input struct {
	IncidentID string `json:"incident_id"`
	// Execution names the escalation run (the state machine's execution
	// name); pages of one run are recorded apart from another's, so an
	// escalation restarted for a reopened incident pages again.
	Execution string            `json:"execution,omitempty"`
	State     oncall.Escalation `json:"state"`
}

// Output is PageLevel's output, and the next PageLevel's input.
type Output struct {
	IncidentID string            `json:"incident_id"`
	Execution  string            `json:"execution,omitempty"`
	State      oncall.Escalation `json:"state"`
	// Done is true when nothing is left to page: acknowledged, identified,
	// resolved, not found, or every level, repeat and the fallback paged.
	Done bool `json:"done"`
	// WaitSeconds is how long to wait for an acknowledgement before the next
	// PageLevel.
	WaitSeconds int `json:"wait_seconds"`
	// Paged are the pages of this invocation.
	Paged []Paged `json:"paged"`
	// Reason says why the escalation stopped, when Done.
	Reason string `json:"reason,omitempty"`
	// ReopenCount is the incident's reopen count as this invocation last
	// read it; nil when it read no incident (bad input, not found). The
	// watchdog reads it back from the execution's history: a run whose last
	// page step saw reopen n paged reopen n (README, "Failure modes", "Lost
	// escalation start"). The next page step's Parameters leave it out, and
	// the Choice and Wait read other fields: it only rides along.
	ReopenCount *int `json:"reopen_count,omitempty"`
}

// Paged is one responder paged by a step.
type Paged struct {
	Responder string `json:"responder"`
	// Level is the policy level (from 1); 0 for the fallback.
	Level  int `json:"level"`
	Repeat int `json:"repeat"`
	// Duplicate: an earlier try of this step already paged them; not paged again.
	Duplicate bool `json:"duplicate,omitempty"`
	// SlackError is why the Slack page did not go out (the SNS page did).
	SlackError string `json:"slack_error,omitempty"`
}

// Config wires an Escalator.
type Config struct {
	Incidents Incidents
	Directory Directory
	Pager     Pager
	// Slack posts the Slack page to each responder; nil: no Slack pages.
	Slack Slack
	// SlackTimeout bounds each Slack call (0: DefaultSlackTimeout).
	SlackTimeout time.Duration
	// SlackPages records each Slack page posted (nil: not recorded, and
	// their buttons stay after the incident is acknowledged).
	SlackPages SlackPages
	// AckLinks, when not nil, puts an acknowledge link in every SNS page;
	// nil (no ack_link_key or PUBLIC_API_URL): pages carry none.
	AckLinks AckLinks
	// Fallback is paged when the state names no fallback of its own
	// (FALLBACK_USER), so a page is never dropped.
	Fallback *oncall.Target
	// ReopenWindow (REOPEN_WINDOW): an escalation that finds its incident
	// resolved less than this (plus ReopenGrace) ago does not end; it
	// watches the incident every ResolvedCheck and goes on paging where it
	// stood if the incident reopens. 0: it ends at once.
	ReopenWindow time.Duration
	Logger       *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// A resolved incident may reopen within the reopen window, and the stream
// function then starts no second escalation while this one runs (README,
// "One escalation at a time"). So this one must not end while a reopen can
// still come: it checks the resolved incident every ResolvedCheck until the
// window (and ReopenGrace, for signals delivered late) has passed.
const (
	ResolvedCheck = time.Minute
	ReopenGrace   = 5 * time.Minute
)

// Escalator runs PageLevel.
type Escalator struct{ cfg Config }

// NewEscalator returns an Escalator.
func NewEscalator(cfg Config) *Escalator {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SlackTimeout <= 0 {
		cfg.SlackTimeout = DefaultSlackTimeout
	}
	return &Escalator{cfg: cfg}
}

// Handle is the Lambda handler: Page over the task's JSON.
func (e *Escalator) Handle(ctx context.Context, in Input) (Output, error) { return e.Page(ctx, in) }

// stopped says why an incident in status s pages nobody more, or "".
func stopped(s incident.Status) string {
	switch s {
	case incident.StatusAcknowledged, incident.StatusIdentified, incident.StatusResolved:
		return "incident is " + string(s)
	}
	return ""
}

// OverdueFallback: a step that still fails this long after it was due,
// although the incident itself can be read (so the store answers), pages the
// fallback user at once, and then goes on retrying its level. Retries
// (RetryLater) carry a transient fault; this is for one that does not pass (a
// damaged schedule, a target SNS refuses), which would otherwise hold the
// escalation at its level and never reach the fallback.
const OverdueFallback = 15 * time.Minute

// failing returns err for the step that failed, after paging the fallback
// when the step is overdue by OverdueFallback (once per escalation run: the
// page is recorded under the fallback step's key, so the run's own fallback
// step later skips whoever was paged here).
func (e *Escalator) failing(ctx context.Context, log *slog.Logger, inc incident.Incident, execution string, out Output, err error) (Output, error) {
	due := inc.CreatedAt
	if out.State.Due != nil {
		due = *out.State.Due
	}
	overdue := e.cfg.Now().Sub(due)
	if overdue < OverdueFallback || out.State.Step.Phase == oncall.PhaseFallback {
		return out, err
	}
	users := overdueFallbackUsers(out.State)
	if len(users) == 0 {
		log.ErrorContext(ctx, "step failing past its due time, and no fallback user to page", slog.Duration("overdue", overdue), slog.Any("error", err))
		return out, err
	}
	pg := oncall.Page{Step: oncall.Step{Phase: oncall.PhaseFallback}, Users: users}
	paged, perr := e.pageAll(ctx, log, inc, execution, pg)
	out.Paged = append(out.Paged, paged...)
	log.ErrorContext(ctx, "step failing past its due time: fallback paged", slog.Duration("overdue", overdue),
		slog.Any("fallback", users), slog.Any("error", err), slog.Any("fallback_error", perr))
	return out, err
}

// overdueFallbackUsers is the fallback user of st: the policy's, else the
// platform's (a fallback schedule is not read: reading schedules may be what
// fails).
func overdueFallbackUsers(st oncall.Escalation) []string {
	targets := []*oncall.Target{st.Fallback}
	if st.Policy != nil {
		targets = []*oncall.Target{st.Policy.Fallback, st.Fallback}
	}
	for _, t := range targets {
		if t != nil && t.User != "" {
			return []string{t.User}
		}
	}
	return nil
}

// watchResolved is how long to wait before looking again at inc, resolved
// within the reopen window (and its grace), or 0 when the escalation may end.
func (e *Escalator) watchResolved(inc incident.Incident) int {
	if inc.Status != incident.StatusResolved || inc.ResolvedAt == nil || e.cfg.ReopenWindow <= 0 {
		return 0
	}
	left := inc.ResolvedAt.Add(e.cfg.ReopenWindow + ReopenGrace).Sub(e.cfg.Now())
	if left <= 0 {
		return 0
	}
	return int(math.Ceil(min(left, ResolvedCheck).Seconds()))
}

// Ends reports whether PageLevel ends the escalation of inc now: it is
// acknowledged or identified, or resolved longer than the reopen window (and
// its grace) ago. Otherwise PageLevel pages (triggered) or watches (resolved).
func (e *Escalator) Ends(inc incident.Incident) bool {
	return stopped(inc.Status) != "" && e.watchResolved(inc) == 0
}

// Page fires the escalation's current step: unless the incident was
// acknowledged (or is further on), it pages the step's on-call people and
// returns the next step and how long to wait before it. A step that finds
// nobody on call does not wait: the next one fires in the same invocation.
// Errors are those worth retrying (store, directory, SNS); bad input and an
// unknown incident end the escalation with a logged reason.
func (e *Escalator) Page(ctx context.Context, in Input) (Output, error) {
	out := Output{IncidentID: in.IncidentID, Execution: in.Execution, State: in.State, Paged: []Paged{}}
	log := e.cfg.Logger.With(slog.String("incident_id", in.IncidentID))
	done := func(reason string) (Output, error) {
		out.Done, out.WaitSeconds, out.Reason = true, 0, reason
		out.State.Step = oncall.Step{Phase: oncall.PhaseDone}
		log.InfoContext(ctx, "escalation done", slog.String("reason", reason), slog.Int("paged", len(out.Paged)))
		return out, nil
	}
	if out.State.Fallback == nil && e.cfg.Fallback != nil {
		f := *e.cfg.Fallback
		out.State.Fallback = &f
	}
	if !incident.ValidID(in.IncidentID) {
		log.WarnContext(ctx, "escalation rejected: not an incident id")
		return done("incident_id is not an incident id")
	}
	for range maxSteps {
		inc, err := e.cfg.Incidents.Incident(ctx, in.IncidentID)
		if errors.Is(err, errkind.NotFound) {
			return done("incident not found")
		}
		if err != nil {
			return out, fmt.Errorf("read incident: %w", err)
		}
		seen := inc.ReopenCount
		out.ReopenCount = &seen
		if r := stopped(inc.Status); r != "" {
			if wait := e.watchResolved(inc); wait > 0 {
				// The state stays at its step: a reopen goes on from there.
				out.WaitSeconds = wait
				log.InfoContext(ctx, "escalation watches a resolved incident for a reopen", slog.Int("wait_seconds", wait))
				return out, nil
			}
			return done(r)
		}
		schedules, err := e.cfg.Directory.Schedules(ctx, out.State.ScheduleIDs())
		if err != nil {
			return e.failing(ctx, log, inc, in.Execution, out, fmt.Errorf("read schedules: %w", err))
		}
		pg := out.State.Fire(schedules, e.cfg.Now())
		paged, err := e.pageAll(ctx, log, inc, in.Execution, pg)
		out.Paged = append(out.Paged, paged...)
		if err != nil {
			// The state stays at this step: the retry skips who was paged.
			return e.failing(ctx, log, inc, in.Execution, out, err)
		}
		out.State.Step = pg.Next
		if pg.Done {
			return done("escalation exhausted")
		}
		if pg.WaitSeconds > 0 {
			due := e.cfg.Now().Add(time.Duration(pg.WaitSeconds) * time.Second)
			out.State.Due = &due
			out.WaitSeconds = pg.WaitSeconds
			log.InfoContext(ctx, "escalation waits", slog.Int("wait_seconds", pg.WaitSeconds),
				slog.Any("next", out.State.Step), slog.Int("paged", len(out.Paged)))
			return out, nil
		}
		// Nobody on call (or a level that waits 0): the next step now.
	}
	return out, nil
}

// level is the page's level, 0 for the fallback.
func level(s oncall.Step) int {
	if s.Phase == oncall.PhaseLevel {
		return s.Level
	}
	return 0
}

// pageKey identifies one page of one run: a retried step has the same key.
func pageKey(inc incident.Incident, execution string, s oncall.Step, responder string) string {
	return fmt.Sprintf("page#%s#%s#r%d#%s#%d#%d#%s", inc.ID, execution, inc.ReopenCount, s.Phase, s.Level, s.Repeat, responder)
}

// pageAll sends the SNS page of every responder of pg not paged before, each
// recorded right after it is sent, then their Slack pages. An SNS failure is
// returned after the others are paged, for the task to be retried.
func (e *Escalator) pageAll(ctx context.Context, log *slog.Logger, inc incident.Incident, execution string, pg oncall.Page) ([]Paged, error) {
	lvl := level(pg.Step)
	var out []Paged
	var sent []int // indexes in out of the pages sent now
	var errs []error
	for _, user := range pg.Users {
		p := Paged{Responder: user, Level: lvl, Repeat: pg.Step.Repeat}
		key := pageKey(inc, execution, pg.Step, user)
		seen, err := e.cfg.Incidents.PageRecorded(ctx, key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen {
			p.Duplicate = true
			out = append(out, p)
			continue
		}
		if err := e.cfg.Pager.Page(ctx, e.snsPage(ctx, log, inc, pg, user)); err != nil {
			log.ErrorContext(ctx, "page not sent", slog.String("responder", user), slog.Int("level", lvl), slog.Any("error", err))
			errs = append(errs, fmt.Errorf("page %s: %w", user, err))
			continue
		}
		_, err = e.cfg.Incidents.RecordPage(ctx, inc.ID, incident.PageRecord{
			Key: key, Responder: user, Level: lvl, Repeat: pg.Step.Repeat, Actor: Actor,
		})
		if err != nil && !errors.Is(err, errkind.Duplicate) {
			// Sent but not recorded: a retry may page them again, which beats
			// not paging someone else.
			errs = append(errs, fmt.Errorf("record page of %s: %w", user, err))
		}
		log.InfoContext(ctx, "paged", slog.String("responder", user), slog.Int("level", lvl), slog.Int("repeat", pg.Step.Repeat))
		sent = append(sent, len(out))
		out = append(out, p)
	}
	for _, i := range sent {
		if err := e.slackPage(ctx, inc, lvl, out[i].Responder); err != nil {
			log.WarnContext(ctx, "slack page not sent", slog.String("responder", out[i].Responder), slog.Any("error", err))
			out[i].SlackError = err.Error()
		}
	}
	return out, errors.Join(errs...)
}

// slackPage posts the page to the responder's Slack user, within SlackTimeout,
// records it, and closes it at once if the incident was answered meanwhile.
func (e *Escalator) slackPage(ctx context.Context, inc incident.Incident, lvl int, responder string) error {
	if e.cfg.Slack == nil {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, e.cfg.SlackTimeout)
	defer cancel()
	u, err := e.cfg.Directory.User(pctx, responder)
	if errors.Is(err, errkind.NotFound) {
		return fmt.Errorf("responder %s is not in the directory", responder)
	}
	if err != nil {
		return fmt.Errorf("read responder %s: %w", responder, err)
	}
	if u.SlackUserID == "" {
		return nil // pages by SNS only
	}
	page, err := e.cfg.Slack.PostPage(pctx, inc, lvl, u.SlackUserID)
	if err != nil {
		return err
	}
	page.Responder, page.At = responder, e.cfg.Now()
	log := e.cfg.Logger.With(slog.String("incident_id", inc.ID), slog.String("responder", responder))
	// The page is out: failing to record or close it only leaves its buttons
	// on after the acknowledgement (clicking them then is harmless), so it is
	// logged, not returned.
	if e.cfg.SlackPages != nil {
		if err := e.cfg.SlackPages.RecordSlackPage(pctx, page); err != nil {
			log.WarnContext(ctx, "slack page not recorded", slog.Any("error", err))
		}
	}
	// Its own time bound: a slow post must not leave the page open.
	cctx, cancel := context.WithTimeout(ctx, e.cfg.SlackTimeout)
	defer cancel()
	if err := e.closeIfAnswered(cctx, inc.ID, page); err != nil {
		log.WarnContext(ctx, "answered incident's slack page left open", slog.Any("error", err))
	}
	return nil
}

// closeIfAnswered closes the page just posted if the incident is no longer
// triggered. The stream function closes the recorded pages when an
// acknowledged or resolved entry arrives; a page recorded after it read them
// (an acknowledgement between the step's status check and the record) would
// keep its buttons. Reading the status after the record closes that gap: an
// answer before the read is seen here, one after it finds the page recorded.
// The incident has no actor of its answer: the page says "Acknowledged" or
// "Resolved" without one (the stream's update, if it comes later, adds it).
func (e *Escalator) closeIfAnswered(ctx context.Context, id string, page incident.SlackPage) error {
	cur, err := e.cfg.Incidents.Incident(ctx, id)
	if err != nil {
		return fmt.Errorf("read incident: %w", err)
	}
	var answer incident.Entry
	switch {
	case cur.Status == incident.StatusResolved:
		answer = incident.Entry{Kind: incident.EntryResolved, At: timeOr(cur.ResolvedAt, cur.UpdatedAt)}
	case cur.Status != incident.StatusTriggered:
		answer = incident.Entry{Kind: incident.EntryAcknowledged, At: timeOr(cur.AcknowledgedAt, cur.UpdatedAt)}
	default:
		return nil
	}
	return e.cfg.Slack.ClosePage(ctx, cur, page, answer)
}

func timeOr(t *time.Time, or time.Time) time.Time {
	if t != nil {
		return *t
	}
	return or
}

// snsPage is the SNS page of one responder: a subject for e-mail, a
// message, and with an acknowledge link (AckLinks) the link in both and a
// short text for SMS. A link that cannot be made is logged; the page goes
// out without it.
func (e *Escalator) snsPage(ctx context.Context, log *slog.Logger, inc incident.Incident, pg oncall.Page, responder string) oncall.ResponderPage {
	p := snsPage(inc, pg, responder)
	if e.cfg.AckLinks == nil {
		return p
	}
	link, err := e.cfg.AckLinks.URL(inc.ID, responder, e.cfg.Now())
	if err != nil {
		log.WarnContext(ctx, "page sent without an acknowledge link", slog.String("responder", responder), slog.Any("error", err))
		return p
	}
	p.Link = link
	p.Message += fmt.Sprintf("\n\nAcknowledge or resolve (for %s, %s): %s", responder, validFor(e.cfg.AckLinks.TTL()), link)
	p.SMS = smsText(inc, link)
	return p
}

// validFor says how long a link works, e.g. "valid 24h".
func validFor(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("valid %dh", int(d/time.Hour))
	}
	return fmt.Sprintf("valid %dmin", int(d.Round(time.Minute)/time.Minute))
}

// SMSLimit is the length of one SMS in the GSM 03.38 alphabet: an SMS page
// is the headline, clipped to fit, and the link (README, "Acknowledge from
// the page").
const SMSLimit = 160

// smsText is "SEV2 checkout: title" and "Ack: <link>" on a line of its own,
// within SMSLimit GSM characters where the link leaves room. The headline
// keeps printable ASCII only (anything else becomes '?'), so that the SMS
// stays in the GSM alphabet rather than UCS-2, where one SMS holds 70.
func smsText(inc incident.Incident, link string) string {
	head := fmt.Sprintf("%s %s: %s", inc.Severity, inc.Service, inc.Title)
	tail := "\nAck: " + link
	budget := SMSLimit - gsmLen(tail)
	var b strings.Builder
	n := 0
	for _, r := range head {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			r = ' '
		case r == '`':
			r = '\''
		case r < 0x20 || r >= 0x7f:
			r = '?'
		}
		w := gsmLen(string(r))
		if n+w > budget {
			break
		}
		b.WriteRune(r)
		n += w
	}
	return strings.TrimSpace(b.String()) + tail
}

// gsmLen is the length of ASCII s in GSM 03.38 septets: the characters of
// the extension table take two.
func gsmLen(s string) int {
	n := len(s)
	for _, c := range []byte(s) {
		if strings.IndexByte("^{}\\[~]|", c) >= 0 {
			n++
		}
	}
	return n
}

// snsPage is the SNS page of one responder without a link: a subject for
// e-mail and a message short enough for an SMS to be useful.
func snsPage(inc incident.Incident, pg oncall.Page, responder string) oncall.ResponderPage {
	what := fmt.Sprintf("level %d", pg.Step.Level)
	if pg.Step.Phase != oncall.PhaseLevel {
		what = "fallback"
	}
	subject := fmt.Sprintf("[%s] %s: %s", inc.Severity, inc.Service, inc.Title)
	msg := fmt.Sprintf("%s\nIncident %s, %s page (%s). Acknowledge to stop the escalation.", subject, inc.ID, what, inc.Status)
	return oncall.ResponderPage{
		Responder: responder, Severity: string(inc.Severity), IncidentID: inc.ID, Level: level(pg.Step),
		Subject: strings.TrimSpace(subject), Message: msg,
	}
}
