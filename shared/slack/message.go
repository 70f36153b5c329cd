package slack

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/text"
)

// Message is a chat message: Text is the notification and fallback text,
// Blocks the Block Kit layout shown in the channel.
type Message struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks,omitempty"`
}

// Text is a Block Kit text object: "plain_text" or "mrkdwn".
type Text struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// Block is one Block Kit layout block: "header", "section", "context",
// "actions" or "divider". Context holds a context block's elements, Buttons an
// actions block's; both are sent as "elements".
type Block struct {
	Type    string
	BlockID string
	Text    *Text
	Fields  []*Text
	Context []*Text
	Buttons []Button
}

// MarshalJSON writes the block as Block Kit expects it.
func (b Block) MarshalJSON() ([]byte, error) {
	out := struct {
		Type     string  `json:"type"`
		BlockID  string  `json:"block_id,omitempty"`
		Text     *Text   `json:"text,omitempty"`
		Fields   []*Text `json:"fields,omitempty"`
		Elements any     `json:"elements,omitempty"`
	}{Type: b.Type, BlockID: b.BlockID, Text: b.Text, Fields: b.Fields}
	switch {
	case len(b.Context) > 0:
		out.Elements = b.Context
	case len(b.Buttons) > 0:
		out.Elements = b.Buttons
	}
	return json.Marshal(out)
}

// Button is a Block Kit button element.
type Button struct {
	ActionID string
	Text     string
	Value    string
	// Style is "", "primary" or "danger".
	Style string
	// Confirm, when set, asks "are you sure?" before the click is sent.
	Confirm *Confirm
}

// MarshalJSON writes the button as Block Kit expects it.
func (b Button) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type     string   `json:"type"`
		ActionID string   `json:"action_id"`
		Text     Text     `json:"text"`
		Value    string   `json:"value"`
		Style    string   `json:"style,omitempty"`
		Confirm  *Confirm `json:"confirm,omitempty"`
	}{"button", b.ActionID, Text{Type: "plain_text", Text: b.Text, Emoji: true}, b.Value, b.Style, b.Confirm})
}

// Confirm is a Block Kit confirmation dialog.
type Confirm struct {
	Title   Text `json:"title"`
	Text    Text `json:"text"`
	Confirm Text `json:"confirm"`
	Deny    Text `json:"deny"`
}

// Block Kit's limits (characters), see https://docs.slack.dev/reference/block-kit/blocks.
const (
	maxHeader   = 150
	maxSection  = 3000
	maxField    = 2000
	maxFallback = 3000
	maxTopic    = 250
	maxChannel  = 80
)

// Page is one escalation level's page, for PageMessage.
type Page struct {
	Level int
	// SlackUserIDs are the paged responders' Slack users, mentioned so that
	// Slack notifies them. Ids that are not Slack ids are left out.
	SlackUserIDs []string
}

// PageMessage is the page posted for an escalation level: what is wrong,
// whom it pages, and the Acknowledge and Resolve buttons.
func PageMessage(inc incident.Incident, p Page) Message {
	blocks := appendWarRoom(pageBlocks(":rotating_light: ", inc, p), inc)
	blocks = appendButtons(blocks, inc)
	what := fmt.Sprintf("level %d page", p.Level)
	if p.Level == 0 {
		what = "fallback page"
	}
	text := fmt.Sprintf("[%s] %s: %s (%s)", inc.Severity, inc.Service, escape(inc.Title), what)
	if mentions := mentionList(p.SlackUserIDs); mentions != "" {
		text += " " + mentions
	}
	return Message{Text: Clip(text, maxFallback), Blocks: blocks}
}

// PageClosedMessage replaces a page (PageMessage) once the entry e
// (acknowledged, resolved) answered it: the same page without its buttons,
// saying who answered and when, with the incident's facts as they are now.
func PageClosedMessage(inc incident.Incident, p Page, e incident.Entry) Message {
	closed := escape(entryTitle(e.Kind))
	if e.Actor != "" {
		closed += " by " + escape(e.Actor)
	}
	blocks := append(pageBlocks("", inc, p),
		Block{Type: "context", Context: []*Text{mrkdwn(fmt.Sprintf(":white_check_mark: *%s* · %s", closed, slackDate(e.At)), maxField)}})
	blocks = appendWarRoom(blocks, inc)
	text := fmt.Sprintf("[%s] %s: %s (%s)", inc.Severity, inc.Service, escape(inc.Title), closed)
	return Message{Text: Clip(text, maxFallback), Blocks: blocks}
}

// SummaryMessage is the incident summary posted in the war-room channel.
func SummaryMessage(inc incident.Incident) Message {
	blocks := []Block{
		{Type: "header", Text: plainText(fmt.Sprintf("%s %s: %s", inc.Severity, inc.Service, inc.Title), maxHeader)},
		{Type: "section", Text: mrkdwn(fmt.Sprintf("*%s*", escape(inc.Title)), maxSection), Fields: facts(inc)},
		{Type: "context", Context: []*Text{mrkdwn("Add to the timeline with `/incident note &lt;text&gt;` in this channel.", maxField)}},
	}
	blocks = appendButtons(blocks, inc)
	text := fmt.Sprintf("[%s] %s: %s (%s)", inc.Severity, inc.Service, escape(inc.Title), inc.Status)
	return Message{Text: Clip(text, maxFallback), Blocks: blocks}
}

// EntryMessage is one timeline entry, posted to the war room as it happens.
func EntryMessage(inc incident.Incident, e incident.Entry) Message {
	line := fmt.Sprintf("*%s*", escape(entryTitle(e.Kind)))
	if e.Actor != "" {
		line += " by " + escape(e.Actor)
	}
	line += " · " + slackDate(e.At)
	if e.Text != "" {
		line += "\n" + quote(escape(e.Text))
	}
	blocks := []Block{
		{Type: "section", Text: mrkdwn(line, maxSection)},
		{Type: "context", Context: []*Text{mrkdwn(fmt.Sprintf("%s · %s · %s · `%s`", inc.Severity, escape(inc.Service), inc.Status, inc.ID), maxField)}},
	}
	text := fmt.Sprintf("%s: %s", inc.ID, entryTitle(e.Kind))
	if e.Actor != "" {
		text += " by " + escape(e.Actor)
	}
	if e.Text != "" {
		text += ": " + escape(e.Text)
	}
	return Message{Text: Clip(text, maxFallback), Blocks: blocks}
}

// Topic is the war-room channel's topic.
func Topic(inc incident.Incident) string {
	return Clip(fmt.Sprintf("%s · %s · %s · %s", inc.Severity, inc.Service, inc.Status, inc.Title), maxTopic)
}

// ChannelName is the war-room channel's name, inc-<yyyymmdd>-<short id>-<service>
// (e.g. inc-20261124-7q2k9m-checkout), made of what Slack allows in a channel
// name: lower-case letters, digits, '-' and '_', at most 80 characters. The
// short id is the end of the incident id (its random part), the date UTC.
func ChannelName(at time.Time, incidentID, service string) string {
	short := strings.ToLower(incidentID)
	if len(short) > 6 {
		short = short[len(short)-6:]
	}
	return NormalizeChannelName(fmt.Sprintf("inc-%s-%s-%s", at.UTC().Format("20060102"), short, service))
}

// NormalizeChannelName makes s a valid Slack channel name: lower case, every
// run of other characters than letters, digits, '-' and '_' a single '-', no
// leading or trailing '-', at most 80 characters. It may return "".
func NormalizeChannelName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	name := b.String()
	if len(name) > maxChannel {
		name = name[:maxChannel]
	}
	return strings.TrimRight(name, "-")
}

// pageBlocks open a page, posted or closed: the header (icon, severity,
// service), the title and whom the page is for, and the incident's facts.
func pageBlocks(icon string, inc incident.Incident, p Page) []Block {
	paging := fmt.Sprintf("Level %d page", p.Level)
	if p.Level == 0 {
		paging = "Fallback page" // level 0 is the escalation's fallback
	}
	if mentions := mentionList(p.SlackUserIDs); mentions != "" {
		paging += " for " + mentions
	}
	return []Block{
		{Type: "header", Text: plainText(fmt.Sprintf("%s%s %s", icon, inc.Severity, inc.Service), maxHeader)},
		{Type: "section", Text: mrkdwn(fmt.Sprintf("*%s*\n%s", escape(inc.Title), paging), maxSection)},
		{Type: "section", Fields: facts(inc)},
	}
}

// appendWarRoom links the incident's war-room channel, once it has one.
func appendWarRoom(blocks []Block, inc incident.Incident) []Block {
	if !slackID.MatchString(inc.WarRoomChannel) {
		return blocks
	}
	return append(blocks, Block{Type: "context", Context: []*Text{mrkdwn("War room: <#"+inc.WarRoomChannel+">", maxField)}})
}

// appendButtons adds the buttons the incident's status allows: Acknowledge
// while nobody has, Resolve until it is resolved.
func appendButtons(blocks []Block, inc incident.Incident) []Block {
	var buttons []Button
	if inc.Status == incident.StatusTriggered {
		buttons = append(buttons, Button{ActionID: ActionIDAcknowledge, Text: "Acknowledge", Value: inc.ID, Style: "primary"})
	}
	if inc.Status.Open() {
		buttons = append(buttons, Button{
			ActionID: ActionIDResolve, Text: "Resolve", Value: inc.ID, Style: "danger",
			// Resolving stops the escalation and starts the post-mortem: not
			// something to do by a stray click.
			Confirm: &Confirm{
				Title:   Text{Type: "plain_text", Text: "Resolve this incident?"},
				Text:    Text{Type: "mrkdwn", Text: Clip(escape(inc.Title), 300)},
				Confirm: Text{Type: "plain_text", Text: "Resolve"},
				Deny:    Text{Type: "plain_text", Text: "Cancel"},
			},
		})
	}
	if len(buttons) == 0 {
		return blocks
	}
	return append(blocks, Block{Type: "actions", BlockID: "incident_actions", Buttons: buttons})
}

// facts are the incident's key fields, as section fields.
func facts(inc incident.Incident) []*Text {
	fields := []*Text{
		mrkdwn("*Status*\n"+escape(string(inc.Status)), maxField),
		mrkdwn("*Severity*\n"+escape(string(inc.Severity)), maxField),
		mrkdwn("*Service*\n"+escape(inc.Service), maxField),
		mrkdwn("*Source*\n"+escape(string(inc.Source)), maxField),
		mrkdwn("*Started*\n"+slackDate(inc.StartedAt), maxField),
		mrkdwn("*Incident*\n`"+escape(inc.ID)+"`", maxField),
	}
	if inc.Commander != "" {
		fields = append(fields, mrkdwn("*Commander*\n"+escape(inc.Commander), maxField))
	}
	return fields // Slack allows at most 10
}

func entryTitle(k incident.EntryKind) string {
	s := strings.ReplaceAll(string(k), "_", " ")
	r, size := utf8.DecodeRuneInString(s)
	if s == "" {
		return "Update"
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// mentionList is "<@U1> <@U2>" for the ids that are Slack ids.
func mentionList(ids []string) string {
	var parts []string
	for _, id := range ids {
		if slackID.MatchString(id) {
			parts = append(parts, "<@"+id+">")
		}
	}
	return strings.Join(parts, " ")
}

// slackDate shows t in each reader's own time zone, falling back to UTC.
func slackDate(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format(time.RFC3339))
}

func quote(s string) string {
	return "> " + strings.ReplaceAll(s, "\n", "\n> ")
}

// escape makes s literal in mrkdwn: without it a title like "<!channel>" from
// a user report would notify everyone.
func escape(s string) string { return Escape(s) }

// Escape applies Slack's three escapes (&, <, >), so that text from an
// incident ("<!channel>") cannot mention or link anything.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func plainText(s string, n int) *Text {
	return &Text{Type: "plain_text", Text: Clip(s, n), Emoji: true}
}

func mrkdwn(s string, n int) *Text {
	return &Text{Type: "mrkdwn", Text: Clip(s, n)}
}

// Clip cuts s to at most n characters (invalid UTF-8 replaced), marking a
// cut with "…". It is text.Clip as Slack needs it: Slack counts its limits
// (block text, fallback text, topic) in characters and wants valid UTF-8.
func Clip(s string, n int) string { return text.Clip(s, n, "…", text.Runes|text.Valid) }

// PostmortemMessage says that inc's post-mortem document was written (a
// first version, or a new one after its fields changed) and where to read it
// (README "Post-mortems").
func PostmortemMessage(inc incident.Incident, link incident.PostmortemLink) Message {
	what := "The post-mortem"
	if inc.RootCause == "" || inc.Fix == "" {
		what += " (root cause or fix still to be completed)"
	}
	line := fmt.Sprintf("*Post-mortem written*\n%s is `%s`, version `%s`: `GET /incidents/%s/postmortem`",
		what, escape(link.Key), escape(link.VersionID), inc.ID)
	blocks := []Block{
		{Type: "section", Text: mrkdwn(line, maxSection)},
		{Type: "context", Context: []*Text{mrkdwn(fmt.Sprintf("%s · %s · %s · `%s`", inc.Severity, escape(inc.Service), inc.Status, inc.ID), maxField)}},
	}
	text := fmt.Sprintf("%s: post-mortem written (%s, version %s)", inc.ID, link.Key, link.VersionID)
	return Message{Text: Clip(escape(text), maxFallback), Blocks: blocks}
}
