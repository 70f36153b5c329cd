package incident

import "time"

// SlackPage is a page posted to a responder in Slack. The escalation records
// it (the store keeps it under the incident) so that the stream function can
// take the page's buttons off once the incident is acknowledged or resolved.
type SlackPage struct {
	IncidentID string
	// Channel is the conversation the page is in (the DM's D… id) and TS the
	// message's: what updating the message needs.
	Channel     string
	TS          string
	Responder   string
	SlackUserID string
	// Level is the policy level (from 1); 0 for the fallback.
	Level int
	At    time.Time
}
