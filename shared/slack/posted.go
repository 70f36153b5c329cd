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

// ChannelPoster is a Messenger that says which conversation a message went
// to; *Client and *Recorder are. A wrapper that embeds one and overrides
// PostMessage must override PostMessageIn too: Post calls it instead.
type ChannelPoster interface {
	PostMessageIn(ctx context.Context, channel string, msg Message) (Posted, error)
}

var (
	_ ChannelPoster = (*Client)(nil)
	_ ChannelPoster = (*Recorder)(nil)
)

// Post posts msg to channel with m and returns where it went: the
// conversation Slack answered with when m is a ChannelPoster, else channel
// itself (right for channel ids, not for user ids).
func Post(ctx context.Context, m Messenger, channel string, msg Message) (Posted, error) {
	if cp, ok := m.(ChannelPoster); ok {
		return cp.PostMessageIn(ctx, channel, msg)
	}
	ts, err := m.PostMessage(ctx, channel, msg)
	return Posted{Channel: channel, TS: ts}, err
}

// PostMessageIn implements ChannelPoster with chat.postMessage, as
// PostMessage, returning the "channel" of Slack's answer.
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

// PostMessageIn implements ChannelPoster: as Slack does, a message posted to
// a user id (U…, W…) lands in the DM with the bot, here "D" + the rest of the
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
