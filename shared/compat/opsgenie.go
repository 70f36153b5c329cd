package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/incidentd/incidentd/shared/incident"
)

// OpsgenieAlert is the body of Opsgenie's "create alert" (POST /v2/alerts),
// as decoded and checked. Fields that route or show the alert inside
// Opsgenie (responders, visibleTo, actions, user, note) are accepted and
// ignored: here the service's escalation policy pages.
type OpsgenieAlert struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias,omitempty"`
	Description string            `json:"description,omitempty"`
	Priority    string            `json:"priority,omitempty"`
	Source      string            `json:"source,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
	Entity      string            `json:"entity,omitempty"`
	Responders  json.RawMessage   `json:"responders,omitempty"`
	VisibleTo   json.RawMessage   `json:"visibleTo,omitempty"`
	Actions     []string          `json:"actions,omitempty"`
	User        string            `json:"user,omitempty"`
	Note        string            `json:"note,omitempty"`
}

// OpsgenieAction is the body of a close or acknowledge (all optional).
type OpsgenieAction struct {
	User   string `json:"user,omitempty"`
	Source string `json:"source,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Opsgenie's limits (Alert API).
const (
	maxOGMessage     = 130
	maxOGAlias       = 512
	maxOGDescription = 15000
	maxOGSource      = 100
	maxOGEntity      = 512
	maxOGTags        = 20
	// MaxOpsgenieBody bounds a request body.
	MaxOpsgenieBody = 256 * 1024
)

// OpsgenieSeverities maps Opsgenie's priorities to the platform's severities
// (README "PagerDuty- and Opsgenie-compatible ingest"); no priority is P3,
// Opsgenie's default.
var OpsgenieSeverities = map[string]incident.Severity{
	"P1": incident.SEV1,
	"P2": incident.SEV2,
	"P3": incident.SEV3,
	"P4": incident.SEV4,
	"P5": incident.SEV4,
}

// ParseOpsgenieAlert decodes and checks a create-alert body. The errors map
// a field to Opsgenie's wording of its problem, for the 422 answer's
// "errors"; none means the alert is valid.
func ParseOpsgenieAlert(body []byte) (OpsgenieAlert, map[string]string) {
	var a OpsgenieAlert
	if err := decodeOne(body, &a); err != nil {
		return OpsgenieAlert{}, map[string]string{"body": "Request body is not a valid JSON object: " + jsonProblem(err)}
	}
	errs := map[string]string{}
	a.Message = strings.TrimSpace(a.Message)
	switch {
	case a.Message == "":
		errs["message"] = "Message can not be empty."
	case utf8.RuneCountInString(a.Message) > maxOGMessage:
		errs["message"] = fmt.Sprintf("Message can not be longer than %d characters.", maxOGMessage)
	}
	a.Alias = strings.TrimSpace(a.Alias)
	if len(a.Alias) > maxOGAlias {
		errs["alias"] = fmt.Sprintf("Alias can not be longer than %d characters.", maxOGAlias)
	}
	if utf8.RuneCountInString(a.Description) > maxOGDescription {
		errs["description"] = fmt.Sprintf("Description can not be longer than %d characters.", maxOGDescription)
	}
	if utf8.RuneCountInString(a.Source) > maxOGSource {
		errs["source"] = fmt.Sprintf("Source can not be longer than %d characters.", maxOGSource)
	}
	if utf8.RuneCountInString(a.Entity) > maxOGEntity {
		errs["entity"] = fmt.Sprintf("Entity can not be longer than %d characters.", maxOGEntity)
	}
	if len(a.Tags) > maxOGTags {
		errs["tags"] = fmt.Sprintf("Tags can not have more than %d items.", maxOGTags)
	}
	if a.Priority == "" {
		a.Priority = "P3"
	}
	if _, ok := OpsgenieSeverities[a.Priority]; !ok {
		errs["priority"] = "Priority should be one of [P1, P2, P3, P4, P5]."
	}
	if len(errs) == 0 {
		errs = nil
	}
	return a, errs
}

// ParseOpsgenieAction decodes the optional body of a close or acknowledge
// (empty is none).
func ParseOpsgenieAction(body []byte) (OpsgenieAction, map[string]string) {
	var a OpsgenieAction
	if len(bytes.TrimSpace(body)) == 0 {
		return a, nil
	}
	if err := decodeOne(body, &a); err != nil {
		return OpsgenieAction{}, map[string]string{"body": "Request body is not a valid JSON object: " + jsonProblem(err)}
	}
	return a, nil
}

func decodeOne(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON object")
	}
	return nil
}

// OpsgenieDedupKey is the platform's dedup key of an Opsgenie alias for
// service: "opsgenie:<service>:<alias>". An alert created without an alias
// takes its message as its alias (two creates with the same message are one
// incident, as two with the same alias are).
func OpsgenieDedupKey(service, alias string) string { return "opsgenie:" + service + ":" + alias }

// Signal is the alert as a trigger for service, sent with the key whose
// actor is actor, at arrival time now.
func (a OpsgenieAlert) Signal(service, actor string, now time.Time) incident.Signal {
	alias := a.Alias
	if alias == "" {
		alias = a.Message
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s", a.Message, a.Priority)
	if a.Source != "" {
		fmt.Fprintf(&b, ", from %s", a.Source)
	}
	b.WriteString(")")
	if a.Description != "" {
		b.WriteString("\n" + a.Description)
	}
	if a.Entity != "" {
		b.WriteString("\nentity: " + a.Entity)
	}
	if len(a.Tags) > 0 {
		b.WriteString("\ntags: " + strings.Join(a.Tags, ", "))
	}
	keys := make([]string, 0, len(a.Details))
	for k := range a.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n%s: %s", k, a.Details[k])
	}
	return incident.Signal{
		Source: incident.SourceIntegration, Kind: incident.Trigger, Service: service,
		DedupKey: OpsgenieDedupKey(service, alias), Severity: OpsgenieSeverities[a.Priority],
		Title: a.Message, Text: b.String(), At: now, Ref: "opsgenie:" + alias, Actor: actor,
	}
}

// ActionSignal is a close (resolve) or acknowledge of the alert with dedup
// key dedupKey, as a signal.
func (a OpsgenieAction) ActionSignal(close bool, service, dedupKey, actor string, now time.Time) incident.Signal {
	sig := incident.Signal{Source: incident.SourceIntegration, Service: service, DedupKey: dedupKey, At: now, Actor: actor,
		Ref: "opsgenie:" + strings.TrimPrefix(dedupKey, "opsgenie:"+service+":")}
	verb := "acknowledged"
	if close {
		sig.Kind, sig.Resolves, verb = incident.Recover, true, "closed"
	} else {
		sig.Kind = incident.Acknowledge
	}
	sig.Text = verb + " by " + actor
	if a.User != "" {
		sig.Text += " (user " + a.User + ")"
	}
	if a.Note != "" {
		sig.Text += ": " + a.Note
	}
	return sig
}
