package slack

import (
	"context"

	"github.com/incidentd/incidentd/shared/incident"
)

// Notifier is the Slack of the use cases: escalation's pages and war rooms,
// lifecycle's war-room posts and closed pages. They speak of incidents, pages
// and timeline entries; Notifier renders those as this package's Block Kit
// messages (PageMessage, PageClosedMessage, SummaryMessage, EntryMessage,
// Topic, ChannelName) and sends them through a Messenger: a *Client, or a
// *Recorder locally and in tests. The use cases declare the interfaces it
// implements; shared/wiring asserts them.
type Notifier struct{ m Messenger }

// NewNotifier returns a Notifier sending through m.
func NewNotifier(m Messenger) *Notifier { return &Notifier{m: m} }

// PostPage posts inc's page of level lvl (0: the fallback) to the Slack user
// slackUserID, mentioning them; it lands in their DM with the bot. It returns
// the page as posted: IncidentID, Channel (the DM's id, which updating the
// message needs), TS, SlackUserID and Level; the caller fills in Responder and
// At.
func (n *Notifier) PostPage(ctx context.Context, inc incident.Incident, lvl int, slackUserID string) (incident.SlackPage, error) {
	msg := PageMessage(inc, Page{Level: lvl, SlackUserIDs: []string{slackUserID}})
	posted, err := n.m.PostMessageIn(ctx, slackUserID, msg)
	if err != nil {
		return incident.SlackPage{}, err
	}
	return incident.SlackPage{
		IncidentID: inc.ID, Channel: posted.Channel, TS: posted.TS, SlackUserID: slackUserID, Level: lvl,
	}, nil
}

// ClosePage replaces page p of inc with its answered version
// (PageClosedMessage): no buttons, who answered it (answer, the acknowledged
// or resolved entry) and when, with inc's facts as they are now.
func (n *Notifier) ClosePage(ctx context.Context, inc incident.Incident, p incident.SlackPage, answer incident.Entry) error {
	var users []string
	if p.SlackUserID != "" {
		users = []string{p.SlackUserID}
	}
	return n.m.UpdateMessage(ctx, p.Channel, p.TS, PageClosedMessage(inc, Page{Level: p.Level, SlackUserIDs: users}, answer))
}

// OpenChannel creates inc's war-room channel, named by ChannelName (a name
// taken: name-2, name-3 …), and returns its id and name.
func (n *Notifier) OpenChannel(ctx context.Context, inc incident.Incident) (id, name string, err error) {
	ch, err := n.m.CreateChannel(ctx, ChannelName(inc.CreatedAt, inc.ID, inc.Service))
	if err != nil {
		return "", "", err
	}
	return ch.ID, ch.Name, nil
}

// SetTopic sets the war-room channel's topic to inc's (Topic).
func (n *Notifier) SetTopic(ctx context.Context, channel string, inc incident.Incident) error {
	return n.m.SetTopic(ctx, channel, Topic(inc))
}

// Invite adds the Slack users to the channel; users already in it are not an
// error.
func (n *Notifier) Invite(ctx context.Context, channel string, slackUserIDs []string) error {
	return n.m.Invite(ctx, channel, slackUserIDs)
}

// PostSummary posts inc's summary (SummaryMessage) to the war-room channel.
func (n *Notifier) PostSummary(ctx context.Context, channel string, inc incident.Incident) error {
	_, err := n.m.PostMessage(ctx, channel, SummaryMessage(inc))
	return err
}

// PostEntry posts timeline entry e of inc (EntryMessage) to the war-room
// channel.
func (n *Notifier) PostEntry(ctx context.Context, channel string, inc incident.Incident, e incident.Entry) error {
	_, err := n.m.PostMessage(ctx, channel, EntryMessage(inc, e))
	return err
}

// PostPostmortem announces in the war-room channel that the incident's
// post-mortem was written (PostmortemMessage).
func (n *Notifier) PostPostmortem(ctx context.Context, channel string, inc incident.Incident, link incident.PostmortemLink) error {
	_, err := n.m.PostMessage(ctx, channel, PostmortemMessage(inc, link))
	return err
}
