package slack_test

import (
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/lifecycle"
	"github.com/incidentd/incidentd/shared/slack"
)

// The use cases' interfaces the Slack adapter implements. They are checked
// here, not in the package: an adapter does not import a use case (see
// shared/layers).
var (
	_ escalation.Slack        = (*slack.Notifier)(nil)
	_ escalation.WarRoomSlack = (*slack.Notifier)(nil)
	_ lifecycle.Slack         = (*slack.Notifier)(nil)
	// lifecycle drops the Slack answers a retry would get again.
	_ lifecycle.PermanentError = (*slack.APIError)(nil)
)
