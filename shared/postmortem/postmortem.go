// Package postmortem builds an incident's post-mortem document and renders
// it as Markdown from an embedded text/template (template.md). It knows no
// AWS and no store: the postmortem function (package postmortemjob) reads
// the incident, its timeline, its reports and its service's deployments and
// hands them over as an Input.
//
// The output is deterministic: the same Input renders the same bytes (every
// time in UTC, the timeline in its stored order, reports by time then id, no
// "generated at" line), so that a redelivered event renders what is stored
// already and writes no second version (README "Post-mortems").
//
// # The times
//
// All three are measured from started_at, when the problem started (the
// first signal's own time: an alarm's state change, a log line, a report),
// as the DORA metrics measure them (package dora):
//
//   - time to detect: created_at − started_at, how long the platform took to
//     open the incident after the problem started;
//   - time to acknowledge: acknowledged_at − started_at (DORA's "time to
//     acknowledge"); "not acknowledged" when nobody did;
//   - time to restore: resolved_at − started_at (DORA's "time to restore
//     service"), to the latest resolution of a reopened incident.
//
// The impact window is started_at → resolved_at.
//
// # Deployments
//
// The linked deployment is the one a person named (cause_deployment_id).
// The suspected one follows the DORA rule (dora.LinkIncident, the
// DORA_SUSPECT_WINDOW setting): the latest successful deployment of the
// incident's service in production that finished within the window before
// the incident started. Both are shown when both exist and differ.
package postmortem

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/incident"
)

// Input is what a post-mortem is built from.
type Input struct {
	Incident incident.Incident
	// Timeline is the incident's timeline, oldest first; Truncated says
	// that entries between the first and the newest were left out.
	Timeline  []incident.Entry
	Truncated bool
	// Reports are the reports people sent about it, any order.
	Reports []incident.Report
	// Cause is the deployment cause_deployment_id names, when it was found.
	Cause *deploy.Record
	// Deployments are the finished deployments of the incident's service in
	// production that finished within SuspectWindow before it started (more
	// may be given: the rule picks).
	Deployments []deploy.Record
	// SuspectWindow is dora's suspect window (zero: dora.DefaultSuspectWindow).
	SuspectWindow time.Duration
}

// Document is the post-mortem, ready for the template.
type Document struct {
	ID, Title, Service, Severity, Status, Source, Commander string
	// FirstSignal is the text of the incident's opening entry (else its
	// first): a duplicate signal appended in the same instant may sort
	// before it.
	FirstSignal string
	StartedAt   string
	CreatedAt   string
	ResolvedAt  string
	// Impact is the impact window's length ("" while not resolved).
	Impact            string
	TimeToDetect      string
	TimeToAcknowledge string
	TimeToRestore     string
	ReopenCount       int
	Timeline          []Line
	Truncated         bool
	Reports           []ReportLine
	RootCause, Fix    string
	WentWell          string
	WentWrong         string
	ActionItems       []string
	// CauseID is the linked deployment's id; Cause its record when found.
	CauseID   string
	Cause     *Deployment
	Suspected *Deployment
	// SuspectWindow is the window of the rule, e.g. "4h".
	SuspectWindow string
}

// Line is one timeline entry.
type Line struct {
	At, Kind, Actor, Text string
}

// ReportLine is one report received.
type ReportLine struct {
	At, Reporter, Summary, Description string
	AffectedUsers                      int
}

// Deployment is a linked or suspected deployment.
type Deployment struct {
	ID, Version, CommitSHA, Status, FinishedAt string
}

// timeFormat is how every time of the document is written (UTC).
const timeFormat = "2006-01-02 15:04:05 UTC"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

// FormatDuration writes d rounded to the second, largest unit first, e.g.
// "1h 5m 3s", "2d 4h 0m 0s", "45s"; a negative span (clocks disagreeing) is
// written with its sign.
func FormatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	days := d / (24 * time.Hour)
	h := (d % (24 * time.Hour)) / time.Hour
	m := (d % time.Hour) / time.Minute
	s := (d % time.Minute) / time.Second
	switch {
	case days > 0:
		return fmt.Sprintf("%s%dd %dh %dm %ds", sign, days, h, m, s)
	case h > 0:
		return fmt.Sprintf("%s%dh %dm %ds", sign, h, m, s)
	case m > 0:
		return fmt.Sprintf("%s%dm %ds", sign, m, s)
	}
	return fmt.Sprintf("%s%ds", sign, s)
}

// Build turns in into the document.
func Build(in Input) Document {
	inc := in.Incident
	d := Document{
		ID: inc.ID, Title: oneLine(inc.Title), Service: inc.Service, Severity: string(inc.Severity),
		Status: string(inc.Status), Source: string(inc.Source), Commander: oneLine(inc.Commander),
		StartedAt: formatTime(inc.StartedAt), CreatedAt: formatTime(inc.CreatedAt),
		ReopenCount: inc.ReopenCount, Truncated: in.Truncated,
		RootCause: strings.TrimSpace(inc.RootCause), Fix: strings.TrimSpace(inc.Fix),
		WentWell: strings.TrimSpace(inc.WentWell), WentWrong: strings.TrimSpace(inc.WentWrong),
		CauseID: inc.CauseDeploymentID,
	}
	for _, it := range inc.ActionItems {
		d.ActionItems = append(d.ActionItems, oneLine(it))
	}
	d.TimeToDetect = FormatDuration(inc.CreatedAt.Sub(inc.StartedAt))
	d.TimeToAcknowledge = "not acknowledged"
	if inc.AcknowledgedAt != nil {
		d.TimeToAcknowledge = FormatDuration(inc.AcknowledgedAt.Sub(inc.StartedAt))
	}
	d.TimeToRestore = "not resolved"
	opened := false // FirstSignal is the opening entry's
	if inc.ResolvedAt != nil {
		d.ResolvedAt = formatTime(*inc.ResolvedAt)
		d.TimeToRestore = FormatDuration(inc.ResolvedAt.Sub(inc.StartedAt))
		d.Impact = d.TimeToRestore
	}
	for i, e := range in.Timeline {
		if i == 0 || e.Kind == incident.EntryOpened && !opened {
			d.FirstSignal, opened = oneLine(e.Text), e.Kind == incident.EntryOpened
		}
		d.Timeline = append(d.Timeline, Line{At: formatTime(e.At), Kind: string(e.Kind), Actor: oneLine(e.Actor), Text: strings.TrimSpace(e.Text)})
	}
	reports := append([]incident.Report(nil), in.Reports...)
	sort.Slice(reports, func(i, j int) bool {
		if !reports[i].At.Equal(reports[j].At) {
			return reports[i].At.Before(reports[j].At)
		}
		return reports[i].ID < reports[j].ID
	})
	for _, r := range reports {
		who := oneLine(r.ReporterName)
		if who == "" {
			who = "anonymous"
		}
		// The reporter's e-mail address stays out: a post-mortem is read
		// well beyond the responders (README "Post-mortems").
		d.Reports = append(d.Reports, ReportLine{At: formatTime(r.At), Reporter: who, Summary: oneLine(r.Summary),
			Description: strings.TrimSpace(r.Description), AffectedUsers: r.AffectedUsers})
	}
	window := in.SuspectWindow
	if window <= 0 {
		window = dora.DefaultSuspectWindow
	}
	d.SuspectWindow = window.String()
	d.SuspectWindow = strings.TrimSuffix(strings.TrimSuffix(d.SuspectWindow, "0s"), "0m")
	if in.Cause != nil && in.Cause.ID == inc.CauseDeploymentID {
		c := deployment(*in.Cause)
		d.Cause = &c
	}
	deps := make([]dora.Deployment, 0, len(in.Deployments))
	byID := map[string]deploy.Record{}
	for _, r := range in.Deployments {
		deps = append(deps, r.DORA())
		byID[r.ID] = r
	}
	// The rule without the explicit link: what the DORA metrics would
	// suspect had nobody named a cause.
	if l, ok := dora.LinkIncident(dora.Incident{ID: inc.ID, Service: inc.Service, StartedAt: inc.StartedAt}, deps, window); ok && l.DeploymentID != inc.CauseDeploymentID {
		s := deployment(byID[l.DeploymentID])
		d.Suspected = &s
	}
	return d
}

func deployment(r deploy.Record) Deployment {
	return Deployment{ID: r.ID, Version: oneLine(r.Version), CommitSHA: r.CommitSHA, Status: string(r.Status), FinishedAt: formatTime(r.FinishedAt)}
}

// oneLine joins a text's lines with spaces: for the fields written on one
// line of the document (title, names, action items).
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

//go:embed template.md
var templateText string

// Render writes d as Markdown: template.md executed with d (render.go).
func Render(d Document) ([]byte, error) {
	b, err := execute(d)
	if err != nil {
		return nil, fmt.Errorf("render post-mortem of %s: %w", d.ID, err)
	}
	return b, nil
}

// Markdown builds and renders the post-mortem of in.
func Markdown(in Input) ([]byte, error) { return Render(Build(in)) }

// Key is the object key of an incident's post-mortem document: one key per
// incident, each rendering a new version of it.
func Key(incidentID string) string { return "postmortems/" + incidentID + ".md" }

// Object is a stored version of a post-mortem document.
type Object struct {
	Key       string
	VersionID string
	// SHA256 is the hex SHA-256 of Body, kept with the object: a rendering
	// with the same hash is not written again.
	SHA256 string
	// ETag names the version for a conditional write (If-Match).
	ETag string
	Body []byte
}

// Digest is the hex SHA-256 of a rendering.
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}
