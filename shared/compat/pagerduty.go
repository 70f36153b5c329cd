package compat

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
)

// PagerDutyEvent is an event of PagerDuty's Events API v2 (POST /v2/enqueue),
// as decoded and checked. Fields the API does not use are ignored, as
// PagerDuty ignores them.
type PagerDutyEvent struct {
	RoutingKey  string            `json:"routing_key"`
	EventAction string            `json:"event_action"`
	DedupKey    string            `json:"dedup_key,omitempty"`
	Payload     *PagerDutyPayload `json:"payload,omitempty"`
	Client      string            `json:"client,omitempty"`
	ClientURL   string            `json:"client_url,omitempty"`
	Links       []PagerDutyLink   `json:"links,omitempty"`
	Images      []PagerDutyImage  `json:"images,omitempty"`
}

// PagerDutyPayload is an event's payload (required for trigger).
type PagerDutyPayload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Severity      string          `json:"severity"`
	Timestamp     string          `json:"timestamp,omitempty"`
	Component     string          `json:"component,omitempty"`
	Group         string          `json:"group,omitempty"`
	Class         string          `json:"class,omitempty"`
	CustomDetails json.RawMessage `json:"custom_details,omitempty"`
}

// PagerDutyLink is a link shown with the event.
type PagerDutyLink struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// PagerDutyImage is an image shown with the event.
type PagerDutyImage struct {
	Src  string `json:"src"`
	Href string `json:"href,omitempty"`
	Alt  string `json:"alt,omitempty"`
}

// PagerDuty's limits (Events API v2): a summary of 1024 characters, a
// dedup_key of 255, an event of 512 KB.
const (
	maxPDSummary  = 1024
	maxPDDedupKey = 255
	// MaxPagerDutyEvent bounds a request body.
	MaxPagerDutyEvent = 512 * 1024
)

// PagerDutySeverities maps PagerDuty's severities to the platform's (README
// "PagerDuty- and Opsgenie-compatible ingest").
var PagerDutySeverities = map[string]incident.Severity{
	"critical": incident.SEV1,
	"error":    incident.SEV2,
	"warning":  incident.SEV3,
	"info":     incident.SEV4,
}

// ParsePagerDutyEvent decodes and checks an Events API v2 body. The errors
// are PagerDuty's own wording, one per problem, for its 400 answer's
// "errors"; none means the event is valid.
func ParsePagerDutyEvent(body []byte) (PagerDutyEvent, []string) {
	var ev PagerDutyEvent
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil {
		return PagerDutyEvent{}, []string{"Could not parse event: " + jsonProblem(err)}
	}
	if dec.More() {
		return PagerDutyEvent{}, []string{"Could not parse event: data after the JSON object"}
	}
	var errs []string
	if strings.TrimSpace(ev.RoutingKey) == "" {
		errs = append(errs, "'routing_key' is missing or blank")
	}
	ev.DedupKey = strings.TrimSpace(ev.DedupKey)
	if len(ev.DedupKey) > maxPDDedupKey {
		errs = append(errs, fmt.Sprintf("'dedup_key' is too long (maximum is %d characters)", maxPDDedupKey))
	}
	switch ev.EventAction {
	case "":
		errs = append(errs, "'event_action' is missing or blank")
	case "trigger":
		errs = append(errs, ev.checkPayload()...)
	case "acknowledge", "resolve":
		if ev.DedupKey == "" {
			errs = append(errs, "'dedup_key' is missing or blank")
		}
	default:
		errs = append(errs, "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')")
	}
	return ev, errs
}

func (ev PagerDutyEvent) checkPayload() []string {
	p := ev.Payload
	if p == nil {
		return []string{"'payload' is missing or blank"}
	}
	var errs []string
	if strings.TrimSpace(p.Summary) == "" {
		errs = append(errs, "'payload.summary' is missing or blank")
	} else if len([]rune(p.Summary)) > maxPDSummary {
		errs = append(errs, fmt.Sprintf("'payload.summary' is too long (maximum is %d characters)", maxPDSummary))
	}
	if strings.TrimSpace(p.Source) == "" {
		errs = append(errs, "'payload.source' is missing or blank")
	}
	if _, ok := PagerDutySeverities[p.Severity]; !ok {
		errs = append(errs, "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')")
	}
	if p.Timestamp != "" {
		if _, ok := parseTimestamp(p.Timestamp); !ok {
			errs = append(errs, "'payload.timestamp' is invalid (must be an ISO 8601 date and time)")
		}
	}
	return errs
}

// parseTimestamp reads an ISO 8601 time as PagerDuty takes it: RFC 3339, or
// with a zone without a colon ("2015-07-17T08:42:58.315+0000", PagerDuty's own
// documented example).
func parseTimestamp(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// jsonProblem says what is wrong with a body in a few words.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return "the body must be a JSON object"
	case errors.As(err, &te):
		return fmt.Sprintf("'%s' must be a %s", te.Field, te.Type.Kind())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the JSON ends early"
	}
	return "malformed JSON"
}

// GeneratedDedupKey is the dedup_key of a trigger sent without one: PagerDuty
// makes one up and answers it; here it is derived from the key id and the
// body (32 hex digits), so a replay of the trigger gets the same one.
func GeneratedDedupKey(keyID string, body []byte) string {
	sum := sha256.Sum256(append([]byte(keyID+"\n"), body...))
	return hex.EncodeToString(sum[:16])
}

// Signal is the event as a signal for service, sent with the key whose actor
// is actor, at arrival time now. dedupKey is the event's (or the generated
// one). The platform's dedup key is "pagerduty:<service>:<dedup_key>": a
// PagerDuty sender cannot meet an alarm's or another sender's incidents.
func (ev PagerDutyEvent) Signal(service, actor, dedupKey string, now time.Time) incident.Signal {
	sig := incident.Signal{
		Source: incident.SourceIntegration, Service: service, Actor: actor, At: now,
		DedupKey: "pagerduty:" + service + ":" + dedupKey,
		Ref:      "pagerduty:" + dedupKey,
	}
	switch ev.EventAction {
	case "acknowledge":
		sig.Kind = incident.Acknowledge
		sig.Text = "acknowledged by " + actor
		return sig
	case "resolve":
		sig.Kind, sig.Resolves = incident.Recover, true
		sig.Text = "resolved by " + actor
		if ev.Payload != nil && ev.Payload.Summary != "" {
			sig.Text += ": " + ev.Payload.Summary
		}
		return sig
	}
	p := ev.Payload
	sig.Kind = incident.Trigger
	sig.Severity = PagerDutySeverities[p.Severity]
	sig.Title = p.Summary
	if t, ok := parseTimestamp(p.Timestamp); ok {
		sig.At = t.UTC()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s, from %s)", p.Summary, p.Severity, p.Source)
	for _, f := range [][2]string{{"component", p.Component}, {"group", p.Group}, {"class", p.Class}, {"client", ev.Client}, {"client_url", ev.ClientURL}} {
		if f[1] != "" {
			fmt.Fprintf(&b, "\n%s: %s", f[0], f[1])
		}
	}
	if d := details(p.CustomDetails); d != "" {
		b.WriteString("\ncustom_details: " + d)
	}
	for _, l := range ev.Links {
		fmt.Fprintf(&b, "\nlink: %s %s", l.Href, l.Text)
	}
	for _, im := range ev.Images {
		fmt.Fprintf(&b, "\nimage: %s %s", im.Src, im.Alt)
	}
	sig.Text = b.String()
	return sig
}

// details writes custom_details (any JSON) compactly for the timeline.
func details(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return ""
	}
	return buf.String()
}
