package dynamo

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/incidentd/incidentd/shared/incident"
)

// The items are their own structs rather than the domain types: the domain
// knows no DynamoDB, and the table's attribute names must not change when a
// JSON field of the API does.

type incidentItem struct {
	PK                string     `dynamodbav:"pk"`
	SK                string     `dynamodbav:"sk"`
	Type              string     `dynamodbav:"type"`
	ID                string     `dynamodbav:"id"`
	Service           string     `dynamodbav:"service"`
	Title             string     `dynamodbav:"title"`
	Severity          string     `dynamodbav:"severity"`
	Status            string     `dynamodbav:"status"`
	Source            string     `dynamodbav:"source"`
	DedupKey          string     `dynamodbav:"dedup_key,omitempty"`
	StartedAt         time.Time  `dynamodbav:"started_at"`
	CreatedAt         time.Time  `dynamodbav:"created_at"`
	UpdatedAt         time.Time  `dynamodbav:"updated_at"`
	AcknowledgedAt    *time.Time `dynamodbav:"acknowledged_at,omitempty"`
	IdentifiedAt      *time.Time `dynamodbav:"identified_at,omitempty"`
	ResolvedAt        *time.Time `dynamodbav:"resolved_at,omitempty"`
	RecoveredAt       *time.Time `dynamodbav:"recovered_at,omitempty"`
	Commander         string     `dynamodbav:"commander,omitempty"`
	WarRoomChannel    string     `dynamodbav:"war_room_channel,omitempty"`
	CauseDeploymentID string     `dynamodbav:"cause_deployment_id,omitempty"`
	RootCause         string     `dynamodbav:"root_cause,omitempty"`
	Fix               string     `dynamodbav:"fix,omitempty"`
	ActionItems       []string   `dynamodbav:"action_items,omitempty"`
	WentWell          string     `dynamodbav:"went_well,omitempty"`
	WentWrong         string     `dynamodbav:"went_wrong,omitempty"`
	// The post-mortem document's link (incident.PostmortemLink).
	PostmortemKey       string         `dynamodbav:"pm_key,omitempty"`
	PostmortemVersion   string         `dynamodbav:"pm_version,omitempty"`
	PostmortemSHA256    string         `dynamodbav:"pm_sha256,omitempty"`
	PostmortemAnnounced string         `dynamodbav:"pm_announced,omitempty"`
	SignalCount         int            `dynamodbav:"signal_count"`
	LastSignalAt        time.Time      `dynamodbav:"last_signal_at"`
	ReopenCount         int            `dynamodbav:"reopen_count"`
	AutoResolved        bool           `dynamodbav:"auto_resolved,omitempty"`
	ReopenedAt          []time.Time    `dynamodbav:"reopened_at,omitempty"`
	ReopenProcessedAt   *time.Time     `dynamodbav:"reopen_processed_at,omitempty"`
	Flapping            bool           `dynamodbav:"flapping,omitempty"`
	Reporters           []reporterItem `dynamodbav:"reporters,omitempty"`
	PublicUpdate        *publicUpdate  `dynamodbav:"public_update,omitempty"`
	Version             int64          `dynamodbav:"version"`

	// The keys of the indexes (schema.go), each set only while the incident
	// is in the state its index holds (setIndexKeys).
	OpenPK        string `dynamodbav:"o_pk,omitempty"`
	OpenSK        string `dynamodbav:"o_sk,omitempty"`
	ResolvedPK    string `dynamodbav:"r_pk,omitempty"`
	ResolvedSK    string `dynamodbav:"r_sk,omitempty"`
	SvcResolvedPK string `dynamodbav:"sr_pk,omitempty"`
	SvcResolvedSK string `dynamodbav:"sr_sk,omitempty"`
}

type reporterItem struct {
	Reporter string    `dynamodbav:"reporter"`
	At       time.Time `dynamodbav:"at"`
}

// publicUpdate is an incident's latest status update (incident.PublicUpdate).
type publicUpdate struct {
	At   time.Time `dynamodbav:"at"`
	Text string    `dynamodbav:"text"`
}

func newIncidentItem(inc incident.Incident) incidentItem {
	it := incidentItem{
		PK: incidentPK(inc.ID), SK: metaSK, Type: TypeIncident,
		ID: inc.ID, Service: inc.Service, Title: inc.Title, Severity: string(inc.Severity),
		Status: string(inc.Status), Source: string(inc.Source), DedupKey: inc.DedupKey,
		StartedAt: inc.StartedAt.UTC(), CreatedAt: inc.CreatedAt.UTC(), UpdatedAt: inc.UpdatedAt.UTC(),
		AcknowledgedAt: incident.UTC(inc.AcknowledgedAt), IdentifiedAt: incident.UTC(inc.IdentifiedAt),
		ResolvedAt: incident.UTC(inc.ResolvedAt), RecoveredAt: incident.UTC(inc.RecoveredAt),
		Commander: inc.Commander, WarRoomChannel: inc.WarRoomChannel,
		CauseDeploymentID: inc.CauseDeploymentID, RootCause: inc.RootCause, Fix: inc.Fix,
		SignalCount: inc.SignalCount, LastSignalAt: inc.LastSignalAt.UTC(), ReopenCount: inc.ReopenCount,
		AutoResolved: inc.AutoResolved, Flapping: inc.Flapping,
		Version:     inc.Version,
		ActionItems: inc.ActionItems, WentWell: inc.WentWell, WentWrong: inc.WentWrong,
	}
	if l := inc.Postmortem; l != nil {
		it.PostmortemKey, it.PostmortemVersion, it.PostmortemSHA256, it.PostmortemAnnounced = l.Key, l.VersionID, l.SHA256, l.Announced
	}
	if u := inc.PublicUpdate; u != nil {
		it.PublicUpdate = &publicUpdate{At: u.At.UTC(), Text: u.Text}
	}
	for _, t := range inc.ReopenedAt {
		it.ReopenedAt = append(it.ReopenedAt, t.UTC())
	}
	if t := inc.ReopenProcessedAt; !t.IsZero() {
		t = t.UTC()
		it.ReopenProcessedAt = &t
	}
	for _, r := range inc.Reporters {
		it.Reporters = append(it.Reporters, reporterItem{Reporter: r.Reporter, At: r.At.UTC()})
	}
	it.setIndexKeys(inc)
	return it
}

func (it incidentItem) incident() incident.Incident {
	inc := incident.Incident{
		ID: it.ID, Service: it.Service, Title: it.Title, Severity: incident.Severity(it.Severity),
		Status: incident.Status(it.Status), Source: incident.Source(it.Source), DedupKey: it.DedupKey,
		StartedAt: it.StartedAt, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
		AcknowledgedAt: it.AcknowledgedAt, IdentifiedAt: it.IdentifiedAt,
		ResolvedAt: it.ResolvedAt, RecoveredAt: it.RecoveredAt,
		Commander: it.Commander, WarRoomChannel: it.WarRoomChannel,
		CauseDeploymentID: it.CauseDeploymentID, RootCause: it.RootCause, Fix: it.Fix,
		SignalCount: it.SignalCount, LastSignalAt: it.LastSignalAt, ReopenCount: it.ReopenCount,
		AutoResolved: it.AutoResolved, ReopenedAt: it.ReopenedAt, Flapping: it.Flapping,
		Version:     it.Version,
		ActionItems: it.ActionItems, WentWell: it.WentWell, WentWrong: it.WentWrong,
	}
	if it.ReopenProcessedAt != nil { // none on items written before it was kept
		inc.ReopenProcessedAt = *it.ReopenProcessedAt
	}
	if it.PostmortemKey != "" {
		inc.Postmortem = &incident.PostmortemLink{Key: it.PostmortemKey, VersionID: it.PostmortemVersion,
			SHA256: it.PostmortemSHA256, Announced: it.PostmortemAnnounced}
	}
	if u := it.PublicUpdate; u != nil {
		inc.PublicUpdate = &incident.PublicUpdate{At: u.At, Text: u.Text}
	}
	// Appends add marks without merging them: keep each reporter's latest.
	for _, r := range it.Reporters {
		inc.MarkReporter(r.Reporter, r.At)
	}
	return inc
}

type entryItem struct {
	PK         string    `dynamodbav:"pk"`
	SK         string    `dynamodbav:"sk"`
	Type       string    `dynamodbav:"type"`
	IncidentID string    `dynamodbav:"incident_id"`
	ID         string    `dynamodbav:"id"`
	At         time.Time `dynamodbav:"at"`
	Kind       string    `dynamodbav:"kind"`
	Actor      string    `dynamodbav:"actor"`
	Text       string    `dynamodbav:"text"`
	Ref        string    `dynamodbav:"ref,omitempty"`
	Samples    []string  `dynamodbav:"samples,omitempty"`
}

func newEntryItem(incidentID string, e incident.Entry) entryItem {
	return entryItem{
		PK: incidentPK(incidentID), SK: entrySK(e.At, e.ID), Type: TypeEntry, IncidentID: incidentID,
		ID: e.ID, At: e.At.UTC(), Kind: string(e.Kind), Actor: e.Actor, Text: e.Text,
		Ref: e.Ref, Samples: e.Samples,
	}
}

func (it entryItem) entry() incident.Entry {
	return incident.Entry{
		ID: it.ID, At: it.At, Kind: incident.EntryKind(it.Kind), Actor: it.Actor, Text: it.Text,
		Ref: it.Ref, Samples: it.Samples,
	}
}

type reportItem struct {
	PK            string    `dynamodbav:"pk"`
	SK            string    `dynamodbav:"sk"`
	Type          string    `dynamodbav:"type"`
	ID            string    `dynamodbav:"report_id"`
	IncidentID    string    `dynamodbav:"incident_id"`
	Service       string    `dynamodbav:"service"`
	Summary       string    `dynamodbav:"summary"`
	Description   string    `dynamodbav:"description,omitempty"`
	ReporterName  string    `dynamodbav:"reporter_name,omitempty"`
	ReporterEmail string    `dynamodbav:"reporter_email,omitempty"`
	AffectedUsers int       `dynamodbav:"affected_users,omitempty"`
	At            time.Time `dynamodbav:"at"`
}

func newReportItem(incidentID string, r incident.Report) reportItem {
	return reportItem{
		PK: incidentPK(incidentID), SK: reportSK(r.ID), Type: TypeReport,
		ID: r.ID, IncidentID: incidentID, Service: r.Service, Summary: r.Summary,
		Description: r.Description, ReporterName: r.ReporterName, ReporterEmail: r.ReporterEmail,
		AffectedUsers: r.AffectedUsers, At: r.At.UTC(),
	}
}

type dedupItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	Type       string `dynamodbav:"type"`
	Key        string `dynamodbav:"dedup_key"`
	IncidentID string `dynamodbav:"incident_id"`
	// ExpiresAt is Unix seconds (DynamoDB TTL); 0 means the record does not expire.
	ExpiresAt int64 `dynamodbav:"expires_at,omitempty"`
}

// expired reports whether TTL may delete the record by now.
func (it dedupItem) expired(now time.Time) bool {
	return it.ExpiresAt != 0 && it.ExpiresAt <= now.Unix()
}

type deliveryItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	Type       string `dynamodbav:"type"`
	DeliveryID string `dynamodbav:"delivery_id"`
	Outcome    string `dynamodbav:"outcome"`
	IncidentID string `dynamodbav:"incident_id,omitempty"`
	ReportID   string `dynamodbav:"report_id,omitempty"`
	// Fingerprint is a hash of the request that made the delivery (an API
	// request's body), to refuse its key sent again with another.
	Fingerprint string `dynamodbav:"fingerprint,omitempty"`
	ExpiresAt   int64  `dynamodbav:"expires_at,omitempty"`
}

// newDeliveryItem is the record of delivery id with its result, kept until
// expires (never when it is zero).
func newDeliveryItem(id string, r incident.Result, expires time.Time) deliveryItem {
	it := deliveryItem{
		PK: deliveryPK(id), SK: deliverySK, Type: TypeDelivery, DeliveryID: id,
		Outcome: string(r.Outcome), IncidentID: r.IncidentID, ReportID: r.ReportID,
		Fingerprint: r.Fingerprint,
	}
	if !expires.IsZero() {
		it.ExpiresAt = expires.Unix()
	}
	return it
}

type serviceItem struct {
	PK                  string    `dynamodbav:"pk"`
	SK                  string    `dynamodbav:"sk"`
	Type                string    `dynamodbav:"type"`
	Name                string    `dynamodbav:"name"`
	Policy              string    `dynamodbav:"policy,omitempty"`
	DefaultSeverity     string    `dynamodbav:"default_severity,omitempty"`
	AutoResolve         bool      `dynamodbav:"auto_resolve"`
	PagingSeverities    []string  `dynamodbav:"paging_severities,omitempty"`
	Alarms              []string  `dynamodbav:"alarms,omitempty"`
	ReportThreshold     int       `dynamodbav:"report_threshold,omitempty"`
	ReportWindowMinutes int       `dynamodbav:"report_window_minutes,omitempty"`
	ReportSeverity      string    `dynamodbav:"report_severity,omitempty"`
	UpdatedAt           time.Time `dynamodbav:"updated_at"`
	// DeletedAt marks a tombstone (refs.go).
	DeletedAt string `dynamodbav:"deleted_at,omitempty"`
	// ManagedBy names the services file the settings come from.
	ManagedBy string `dynamodbav:"managed_by,omitempty"`
}

func newServiceItem(c incident.ServiceConfig) serviceItem {
	it := serviceItem{
		PK: servicesPK, SK: serviceSK(c.Name), Type: TypeService, Name: c.Name, Policy: c.Policy,
		DefaultSeverity: string(c.DefaultSeverity), AutoResolve: c.AutoResolve, Alarms: c.Alarms,
		ReportThreshold: c.ReportThreshold, ReportWindowMinutes: c.ReportWindowMinutes,
		ReportSeverity: string(c.ReportSeverity), UpdatedAt: c.UpdatedAt.UTC(), ManagedBy: c.ManagedBy,
	}
	for _, s := range c.PagingSeverities {
		it.PagingSeverities = append(it.PagingSeverities, string(s))
	}
	return it
}

func (it serviceItem) config() incident.ServiceConfig {
	c := incident.ServiceConfig{
		Name: it.Name, Policy: it.Policy, DefaultSeverity: incident.Severity(it.DefaultSeverity),
		AutoResolve: it.AutoResolve, Alarms: it.Alarms, ReportThreshold: it.ReportThreshold,
		ReportWindowMinutes: it.ReportWindowMinutes, ReportSeverity: incident.Severity(it.ReportSeverity),
		UpdatedAt: it.UpdatedAt, ManagedBy: it.ManagedBy,
	}
	for _, s := range it.PagingSeverities {
		c.PagingSeverities = append(c.PagingSeverities, incident.Severity(s))
	}
	return c
}

// ItemType returns an item's type (one of the Type constants), or "" for an
// item that has none (log counters, tokens).
func ItemType(item map[string]types.AttributeValue) string {
	if v, ok := item[TypeAttribute].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// DecodeIncident decodes an incident item, e.g. a stream record's image.
func DecodeIncident(item map[string]types.AttributeValue) (incident.Incident, error) {
	if t := ItemType(item); t != TypeIncident {
		return incident.Incident{}, fmt.Errorf("decode incident: item is of type %q", t)
	}
	var it incidentItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return incident.Incident{}, fmt.Errorf("decode incident: %w", err)
	}
	return it.incident(), nil
}

// DecodeEntry decodes a timeline entry item and returns it with its incident's id.
func DecodeEntry(item map[string]types.AttributeValue) (incidentID string, e incident.Entry, err error) {
	if t := ItemType(item); t != TypeEntry {
		return "", incident.Entry{}, fmt.Errorf("decode timeline entry: item is of type %q", t)
	}
	var it entryItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return "", incident.Entry{}, fmt.Errorf("decode timeline entry: %w", err)
	}
	return it.IncidentID, it.entry(), nil
}
