package incident

// StreamChange is what one record of the store's change stream (the table's
// DynamoDB stream) says, decoded by the store adapter into domain types:
// an incident written (Incident, and Previous when it was modified rather than
// created), or a timeline entry added (Entry, of the incident IncidentID). A
// record about anything else (dedup keys, deliveries, Slack pages, configs,
// removals, an entry modified after it was written) is the zero StreamChange.
type StreamChange struct {
	// Incident is the incident as written; nil when the record is not an
	// incident's.
	Incident *Incident
	// Previous is the incident before a modification; nil when the record
	// created it.
	Previous *Incident
	// Entry is the timeline entry added, of incident IncidentID; nil when the
	// record is not an entry's insertion.
	Entry      *Entry
	IncidentID string
	// Signal is a pending signal recorded for an open incident, for the
	// stream consumer to fold into it (Service.Fold); nil otherwise.
	Signal *PendingSignal
}
