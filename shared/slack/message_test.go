package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
)

var started = time.Date(2026, 11, 24, 9, 15, 42, 0, time.UTC)

func testIncident(status incident.Status) incident.Incident {
	return incident.Incident{
		ID: incID, Service: "checkout", Title: "Checkout p99 latency above 2s", Severity: incident.SEV2,
		Status: status, Source: incident.SourceAlarm, StartedAt: started, CreatedAt: started,
	}
}

// blocksOf decodes msg as Slack would receive it.
func blocksOf(t *testing.T, msg Message) []map[string]any {
	t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.Blocks
}

// buttons returns the buttons of msg's actions blocks by action id, with their values.
func buttons(t *testing.T, msg Message) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, b := range blocksOf(t, msg) {
		if b["type"] != "actions" {
			continue
		}
		for _, e := range b["elements"].([]any) {
			el := e.(map[string]any)
			if el["type"] != "button" {
				t.Fatalf("got element type %v in an actions block", el["type"])
			}
			out[el["action_id"].(string)] = el
		}
	}
	return out
}

func TestMessageButtonsFollowStatus(t *testing.T) {
	tests := []struct {
		status incident.Status
		want   []string
	}{
		{incident.StatusTriggered, []string{ActionIDAcknowledge, ActionIDResolve}},
		{incident.StatusAcknowledged, []string{ActionIDResolve}},
		{incident.StatusIdentified, []string{ActionIDResolve}},
		{incident.StatusResolved, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			for name, msg := range map[string]Message{
				"page":    PageMessage(testIncident(tt.status), Page{Level: 1}),
				"summary": SummaryMessage(testIncident(tt.status)),
			} {
				got := buttons(t, msg)
				if len(got) != len(tt.want) {
					t.Fatalf("%s: got buttons %v, want %v", name, got, tt.want)
				}
				for _, id := range tt.want {
					if got[id]["value"] != incID {
						t.Fatalf("%s: got %s value %v, want %s", name, id, got[id]["value"], incID)
					}
				}
			}
		})
	}
	if got := buttons(t, PageMessage(testIncident(incident.StatusTriggered), Page{}))[ActionIDResolve]["confirm"]; got == nil {
		t.Fatal("got a Resolve button without a confirmation, want one")
	}
}

// TestButtonClickRoundTrip: a click on a button this package built parses back
// to the action and incident it stands for.
func TestButtonClickRoundTrip(t *testing.T) {
	msg := PageMessage(testIncident(incident.StatusTriggered), Page{Level: 1, SlackUserIDs: []string{"U2CERLKJA"}})
	want := map[string]Action{ActionIDAcknowledge: ActionAcknowledge, ActionIDResolve: ActionResolve}
	for id, button := range buttons(t, msg) {
		m := interactionFixture(t)
		m["actions"] = []any{button}
		got, err := ParseInteraction(interactionBody(t, m))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if got.Action != want[id] || got.IncidentID != incID {
			t.Fatalf("%s: got %s of %s, want %s of %s", id, got.Action, got.IncidentID, want[id], incID)
		}
	}
}

func TestPageMessage(t *testing.T) {
	inc := testIncident(incident.StatusTriggered)
	inc.WarRoomChannel = "C0123ABCDEF"
	msg := PageMessage(inc, Page{Level: 2, SlackUserIDs: []string{"U2CERLKJA", "not an id", "W012A3CDE"}})
	if want := "[SEV2] checkout: Checkout p99 latency above 2s (level 2 page) <@U2CERLKJA> <@W012A3CDE>"; msg.Text != want {
		t.Fatalf("got text %q, want %q", msg.Text, want)
	}
	all := string(mustJSON(t, msg))
	for _, want := range []string{
		"Level 2 page for <@U2CERLKJA> <@W012A3CDE>", "<#C0123ABCDEF>", "`" + incID + "`",
		"<!date^1795511742^{date_short_pretty} {time}|2026-11-24T09:15:42Z>",
	} {
		if !strings.Contains(all, jsonString(want)) {
			t.Errorf("got %s, want it to contain %q", all, want)
		}
	}
	if strings.Contains(all, "not an id") {
		t.Errorf("got %s, want the non-id left out", all)
	}
}

func TestMessagesEscapeMrkdwn(t *testing.T) {
	inc := testIncident(incident.StatusTriggered)
	inc.Title = "<!channel> checkout down & <https://evil.example|click>"
	entry := incident.Entry{At: started, Kind: incident.EntryNote, Actor: "<!here>", Text: "see <@U1>"}
	tests := []struct {
		name string
		msg  Message
		want string
	}{
		{"page", PageMessage(inc, Page{Level: 1}), "&lt;!channel&gt; checkout down &amp;"},
		{"summary", SummaryMessage(inc), "&lt;!channel&gt; checkout down &amp;"},
		{"entry", EntryMessage(inc, entry), "by &lt;!here&gt;"},
	}
	for _, tt := range tests {
		// Plain-text objects (header, buttons) render literally; the fallback
		// text and every mrkdwn object are where Slack reads <…> as a mention.
		all := strings.Join(append(mrkdwnTexts(tt.msg), tt.msg.Text), "\n")
		for _, bad := range []string{"<!channel>", "<!here>", "<https://evil", "<@U1>"} {
			if strings.Contains(all, bad) {
				t.Errorf("%s: got %q, want %q escaped", tt.name, all, bad)
			}
		}
		if !strings.Contains(all, tt.want) {
			t.Errorf("%s: got %q, want it to contain %q", tt.name, all, tt.want)
		}
	}
}

func mrkdwnTexts(msg Message) []string {
	var out []string
	for _, b := range msg.Blocks {
		for _, txt := range append(append([]*Text{b.Text}, b.Fields...), b.Context...) {
			if txt != nil && txt.Type == "mrkdwn" {
				out = append(out, txt.Text)
			}
		}
		for _, btn := range b.Buttons {
			if btn.Confirm != nil {
				out = append(out, btn.Confirm.Text.Text)
			}
		}
	}
	return out
}

func TestMessagesRespectBlockKitLimits(t *testing.T) {
	inc := testIncident(incident.StatusTriggered)
	inc.Title = strings.Repeat("é", 5000)
	inc.Service = strings.Repeat("s", 63)
	for name, msg := range map[string]Message{
		"page": PageMessage(inc, Page{Level: 1}), "summary": SummaryMessage(inc),
		"entry": EntryMessage(inc, incident.Entry{Kind: incident.EntryNote, Text: strings.Repeat("n", 9000)}),
	} {
		for _, b := range msg.Blocks {
			limit := maxSection
			if b.Type == "header" {
				limit = maxHeader
			}
			if b.Text != nil && len([]rune(b.Text.Text)) > limit {
				t.Errorf("%s: got a %s text of %d characters, want at most %d", name, b.Type, len([]rune(b.Text.Text)), limit)
			}
			for _, f := range append(b.Fields, b.Context...) {
				if len([]rune(f.Text)) > maxField {
					t.Errorf("%s: got a field of %d characters", name, len([]rune(f.Text)))
				}
			}
		}
		if len(msg.Blocks) > 50 || len([]rune(msg.Text)) > maxFallback {
			t.Errorf("%s: got %d blocks and text of %d characters", name, len(msg.Blocks), len([]rune(msg.Text)))
		}
	}
	if got := len([]rune(Topic(inc))); got > maxTopic {
		t.Errorf("got a topic of %d characters, want at most %d", got, maxTopic)
	}
}

func TestEntryMessage(t *testing.T) {
	inc := testIncident(incident.StatusAcknowledged)
	msg := EntryMessage(inc, incident.Entry{At: started, Kind: incident.EntrySeverityChanged, Actor: "alice", Text: "SEV3 → SEV2\nimpact grew"})
	if want := incID + ": Severity changed by alice: SEV3 → SEV2\nimpact grew"; msg.Text != want {
		t.Fatalf("got %q, want %q", msg.Text, want)
	}
	if got := msg.Blocks[0].Text.Text; !strings.Contains(got, "*Severity changed* by alice") || !strings.Contains(got, "\n> SEV3 → SEV2\n> impact grew") {
		t.Fatalf("got %q", got)
	}
	if len(buttons(t, msg)) != 0 {
		t.Fatal("got buttons on a timeline update, want none")
	}
}

func TestChannelName(t *testing.T) {
	tests := []struct {
		name    string
		service string
		want    string
	}{
		{"plain", "checkout", "inc-20261124-0t1v2w-checkout"},
		{"dots become dashes", "api.v2_public", "inc-20261124-0t1v2w-api-v2_public"},
		{"capitals and spaces", "Checkout  API!", "inc-20261124-0t1v2w-checkout-api"},
		{"no service", "", "inc-20261124-0t1v2w"},
		{"long service cut to 80", strings.Repeat("a", 100), "inc-20261124-0t1v2w-" + strings.Repeat("a", 60)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 01:00 in Sydney is still the 23rd in UTC.
			at := time.Date(2026, 11, 25, 10, 0, 0, 0, mustZone(t, "Australia/Sydney"))
			got := ChannelName(at, strings.ToUpper(incID), tt.service)
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNormalizeChannelName(t *testing.T) {
	tests := []struct{ give, want string }{
		{"inc-1", "inc-1"},
		{"--Inc--1--", "inc-1"},
		{"日本", ""},
		{"a" + strings.Repeat("-", 100) + "b", "a-b"},
		{strings.Repeat("x", 79) + "-y", strings.Repeat("x", 79)},
	}
	for _, tt := range tests {
		if got := NormalizeChannelName(tt.give); got != tt.want {
			t.Errorf("NormalizeChannelName(%q): got %q, want %q", tt.give, got, tt.want)
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonString is s as it appears inside a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func TestPageClosedMessage(t *testing.T) {
	tests := []struct {
		name     string
		status   incident.Status
		entry    incident.Entry
		level    int
		wantText string
		wantIn   []string
	}{
		{
			name: "acknowledged", status: incident.StatusAcknowledged, level: 1,
			entry:    incident.Entry{At: started.Add(time.Minute), Kind: incident.EntryAcknowledged, Actor: "alice"},
			wantText: "[SEV2] checkout: Checkout p99 latency above 2s (Acknowledged by alice)",
			wantIn: []string{"Level 1 page for <@U2CERLKJA>", ":white_check_mark: *Acknowledged by alice*",
				"<!date^1795511802^{date_short_pretty} {time}|2026-11-24T09:16:42Z>", "*Status*\nacknowledged"},
		},
		{
			name: "resolved from the fallback page", status: incident.StatusResolved, level: 0,
			entry:    incident.Entry{At: started.Add(time.Hour), Kind: incident.EntryResolved, Actor: "<!channel>"},
			wantText: "[SEV2] checkout: Checkout p99 latency above 2s (Resolved by &lt;!channel&gt;)",
			wantIn:   []string{"Fallback page for <@U2CERLKJA>", "*Resolved by &lt;!channel&gt;*", "*Status*\nresolved"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := testIncident(tt.status)
			inc.WarRoomChannel = "C0123ABCDEF"
			msg := PageClosedMessage(inc, Page{Level: tt.level, SlackUserIDs: []string{"U2CERLKJA"}}, tt.entry)
			if msg.Text != tt.wantText {
				t.Errorf("got text %q, want %q", msg.Text, tt.wantText)
			}
			// The buttons are gone: the page is answered.
			if got := buttons(t, msg); len(got) != 0 {
				t.Errorf("got buttons %v, want none", got)
			}
			all := string(mustJSON(t, msg))
			for _, want := range append(tt.wantIn, "<#C0123ABCDEF>") {
				if !strings.Contains(all, jsonString(want)) {
					t.Errorf("got %s, want it to contain %q", all, want)
				}
			}
			if strings.Contains(all, `"actions"`) {
				t.Errorf("got %s, want no actions block", all)
			}
		})
	}
}

func TestFallbackPageSaysFallback(t *testing.T) {
	inc := incident.Incident{ID: "01jd0000000000000000000000", Service: "checkout", Title: "Checkout is down", Severity: incident.SEV1, Status: incident.StatusTriggered}
	msg := PageMessage(inc, Page{Level: 0, SlackUserIDs: []string{"U2CERLKJA"}})
	blocks, err := json.Marshal(msg.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Text, "(fallback page)") || !strings.Contains(string(blocks), "Fallback page") {
		t.Errorf("got text %q and blocks %s, want the fallback named as such", msg.Text, blocks)
	}
}

func TestPostmortemMessage(t *testing.T) {
	link := incident.PostmortemLink{Key: "postmortems/" + incID + ".md", VersionID: "v3"}
	complete := testIncident(incident.StatusResolved)
	complete.RootCause, complete.Fix = "pool exhausted", "rolled back"
	tests := []struct {
		name string
		give incident.Incident
		want []string
		not  []string
	}{
		{"complete", complete, []string{"*Post-mortem written*", "`postmortems/" + incID + ".md`", "version `v3`", "GET /incidents/" + incID + "/postmortem"},
			[]string{"to be completed"}},
		{"without root cause", testIncident(incident.StatusResolved), []string{"root cause or fix still to be completed"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := PostmortemMessage(tt.give, link)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			got := string(b)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("got %s, want it to contain %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("got %s, want no %q", got, n)
				}
			}
		})
	}
}
