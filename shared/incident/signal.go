package incident

import (
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/text"
)

// SignalKind says what a signal asserts about its problem.
type SignalKind string

// Signal kinds.
const (
	// Trigger: the problem is happening (an alarm in ALARM, error lines, a report).
	Trigger SignalKind = "trigger"
	// Recover: the monitor saw the problem end (an alarm back to OK).
	Recover SignalKind = "recover"
	// Info: worth noting on an open incident, nothing more (INSUFFICIENT_DATA).
	Info SignalKind = "info"
	// Acknowledge: the sender acknowledged the problem (a PagerDuty
	// acknowledge event, an Opsgenie acknowledge): the open incident of the
	// dedup key is acknowledged in the signal's Actor's name, as a person's
	// acknowledgement would (it stops the escalation). Nothing opens.
	Acknowledge SignalKind = "acknowledge"
)

// Signal is one piece of evidence about a problem, from any detection source.
type Signal struct {
	Source   Source
	Kind     SignalKind
	Service  string
	DedupKey string
	// Severity is the source's own severity; empty means the service's default.
	Severity Severity
	// Title is a one-line summary, used as the title of an incident it opens.
	Title string
	// Text is the detail written to the timeline.
	Text string
	// At is when the source says it happened.
	At time.Time
	// Ref points at the raw event (alarm ARN, log group and stream, report id).
	Ref string
	// DeliveryID identifies the delivered event (SNS MessageId, EventBridge id, an
	// API Idempotency-Key); a redelivery with the same id changes nothing.
	DeliveryID string
	// Fingerprint is a hash of what the delivery asked for (an API request's
	// body), recorded with DeliveryID so that the id sent again with another
	// request can be told apart (errkind.KeyReused); empty for events.
	Fingerprint string
	// Actor is who or what sent it, e.g. "alarm:checkout-cpu" or a reporter's e-mail.
	Actor string
	// Reporter identifies a person reporting, so that distinct reporters can be
	// counted; empty for machine sources.
	Reporter string
	// Samples are example lines kept in the timeline (log errors).
	Samples []string
	// Resolves, on a Recover signal, resolves the open incident whatever the
	// service's auto_resolve says: the sender asked for it (a PagerDuty
	// resolve event, an Opsgenie close), and such senders expect it done.
	Resolves bool
	// entryID, when set, is the id of the signal's timeline entry: a pending
	// signal decided again writes its entry under the id it was written
	// with, once.
	entryID string
	// joinDelivery, when set, is the delivery id of the pending signal
	// decided again (DeliveryID is it plus "#redecided"): the decision
	// records it too (Change.JoinDeliveryID).
	joinDelivery string
	// atAdjusted: the source's time was missing or in the future, and At is
	// the time of arrival, which a redelivery does not share.
	atAdjusted bool
}

// Limits on signal fields; longer values are cut, not refused, since a monitor
// cannot be asked to resend.
const (
	maxTitle      = 200
	maxText       = 4000
	maxSamples    = 5
	maxSampleText = 1000
)

// cleanLine and cleanLines are text.Clean and text.CleanLines under names
// that parameters called text do not hide: every human-visible text the
// service stores (titles, summaries, notes, descriptions, actors) passes one
// of them, whatever its source.
func cleanLine(s string) string  { return text.Clean(s) }
func cleanLines(s string) string { return text.CleanLines(s) }

// normalize validates s and fills defaults.
func (s Signal) normalize(now time.Time) (Signal, error) {
	switch s.Source {
	case SourceAlarm, SourceLog, SourceReport, SourceManual, SourceIntegration:
	default:
		return s, errkind.Invalidf("signal source %q is not one of alarm, log, report, manual, integration", s.Source)
	}
	switch s.Kind {
	case "":
		s.Kind = Trigger
	case Trigger, Recover, Info, Acknowledge:
	default:
		return s, errkind.Invalidf("signal kind %q is not one of trigger, recover, info, acknowledge", s.Kind)
	}
	s.Service = strings.TrimSpace(s.Service)
	if err := ValidateServiceName(s.Service); err != nil {
		return s, err
	}
	if s.DedupKey == "" {
		return s, errkind.Invalidf("signal for service %q has no dedup key", s.Service)
	}
	if s.Severity != "" && !s.Severity.Valid() {
		return s, errkind.Invalidf("severity %q is not one of SEV1, SEV2, SEV3, SEV4", s.Severity)
	}
	if s.At.IsZero() || s.At.After(now) {
		s.At, s.atAdjusted = now, true
	}
	// Every source's text is cleaned here, never refused: an alarm must open
	// its incident whatever its name holds (text.Clean says what goes).
	s.Title = text.Clip(strings.TrimSpace(text.Clean(s.Title)), maxTitle, "…", text.Bytes)
	if s.Title == "" {
		s.Title = string(s.Source) + " on " + s.Service
	}
	s.Text = text.Clip(text.CleanLines(s.Text), maxText, "…", text.Bytes)
	// A copy: the caller's samples stay as they were.
	s.Samples = append([]string(nil), s.Samples[:min(len(s.Samples), maxSamples)]...)
	for i := range s.Samples {
		s.Samples[i] = text.Clip(text.CleanLines(s.Samples[i]), maxSampleText, "…", text.Bytes)
	}
	s.Actor = text.Clean(s.Actor)
	if s.Actor == "" {
		s.Actor = string(s.Source)
	}
	return s, nil
}
