package slack

import (
	"context"
	"strings"
)

// Posted is where Slack put a message: the conversation (for a message posted
// to a user id, the id of the DM with the bot, D…) and the message's ts.
// chat.update needs both, and refuses a user id for a DM.
type Posted struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// PostMessageIn implements Messenger with chat.postMessage, as PostMessage,
// returning the "channel" of Slack's answer.
func (c *Client) PostMessageIn(ctx context.Context, channel string, msg Message) (Posted, error) {
	var out Posted
	err := c.call(ctx, "chat.postMessage", map[string]any{
		"channel": channel, "text": msg.Text, "blocks": msg.Blocks,
		"unfurl_links": false, "unfurl_media": false,
	}, &out)
	if err == nil && out.Channel == "" {
		out.Channel = channel
	}
	return out, err
}

// PostMessageIn implements Messenger: as Slack does, a message posted to a
// user id (U…, W…) lands in the DM with the bot, here "D" + the rest of the
// user id.
func (r *Recorder) PostMessageIn(ctx context.Context, channel string, msg Message) (Posted, error) {
	ts, err := r.PostMessage(ctx, channel, msg)
	if err != nil {
		return Posted{}, err
	}
	return Posted{Channel: dmChannel(channel), TS: ts}, nil
}

// dmChannel is the local DM id of a user id, or channel when it is none.
func dmChannel(channel string) string {
	if slackID.MatchString(channel) && (strings.HasPrefix(channel, "U") || strings.HasPrefix(channel, "W")) {
		return "D" + channel[1:]
	}
	return channel
}
