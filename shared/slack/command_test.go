package slack

import (
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
)

const incID = "01jd5x3k8q2m4n6p7r9s0t1v2w"

// commandBody is a slash command request as Slack posts it, with text.
func commandBody(text string) []byte {
	v := url.Values{
		"token": {"xyzz0WbapA4vBCDEFasx0q6G"}, "team_id": {"T1DC2JH3J"}, "team_domain": {"testteamnow"},
		"channel_id": {"C0123ABCDEF"}, "channel_name": {"inc-20261124-9m3k2x-checkout"},
		"user_id": {"U2CERLKJA"}, "user_name": {"roadrunner"}, "command": {"/incident"}, "text": {text},
		"response_url": {"https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN"},
		"trigger_id":   {"398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"},
	}
	return []byte(v.Encode())
}

// from is the part of every parsed command that comes from the envelope.
func from(r Request) Request {
	r.UserID, r.UserName, r.TeamID, r.ChannelID = "U2CERLKJA", "roadrunner", "T1DC2JH3J", "C0123ABCDEF"
	r.ResponseURL = "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN"
	return r
}

func TestParseCommand(t *testing.T) {
	upper := strings.ToUpper(incID)
	tests := []struct {
		name string
		text string
		want Request
	}{
		{"empty is help", "", from(Request{Action: ActionHelp})},
		{"help", "help", from(Request{Action: ActionHelp})},
		{"ack with id", "ack " + incID, from(Request{Action: ActionAcknowledge, IncidentID: incID})},
		{"ack with id in capitals", "ack " + upper, from(Request{Action: ActionAcknowledge, IncidentID: incID})},
		{"acknowledge spelled out, verb in capitals", "ACKNOWLEDGE " + incID, from(Request{Action: ActionAcknowledge, IncidentID: incID})},
		{"ack in a war room", "ack", from(Request{Action: ActionAcknowledge})},
		{"extra spaces", "  ack \t " + incID + "  ", from(Request{Action: ActionAcknowledge, IncidentID: incID})},
		{"resolve", "resolve " + incID, from(Request{Action: ActionResolve, IncidentID: incID})},
		{"resolve with a summary", "resolve " + incID + " rolled back v42", from(Request{Action: ActionResolve, IncidentID: incID, Text: "rolled back v42"})},
		{"resolve in a war room with a summary", "resolve rolled back v42", from(Request{Action: ActionResolve, Text: "rolled back v42"})},
		{"note", "note " + incID + " db failover done", from(Request{Action: ActionNote, IncidentID: incID, Text: "db failover done"})},
		{"note keeps line breaks", "note " + incID + " step 1\nstep 2", from(Request{Action: ActionNote, IncidentID: incID, Text: "step 1\nstep 2"})},
		{"note in a war room", "note failover started", from(Request{Action: ActionNote, Text: "failover started"})},
		{"note unescapes slack's escapes", "note " + incID + " p99 &gt; 2s &amp; rising &lt;@U2CERLKJA&gt;", from(Request{Action: ActionNote, IncidentID: incID, Text: "p99 > 2s & rising <@U2CERLKJA>"})},
		{"status of all", "status", from(Request{Action: ActionStatus})},
		{"status of a service", "status Checkout", from(Request{Action: ActionStatus, Service: "checkout"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCommand(commandBody(tt.text))
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseCommandUsage(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string // in the message shown to the user
	}{
		{"unknown verb", "escalate " + incID, `Unknown command "escalate"`},
		{"what was typed is escaped", "<!channel>", `Unknown command "&lt;!channel&gt;"`},
		{"ack with a typo in the id", "ack 01jd5x3k8q2m4n6p7r9s0t1v2", `"01jd5x3k8q2m4n6p7r9s0t1v2" is not an incident id`},
		{"id-shaped word that is no id", "resolve 01JD5X3K8Q2M4N6P7R9S0T1VUU", `is not a valid incident id`},
		{"ack with words", "ack " + incID + " on it", `"on" is not an incident id`},
		{"note without text", "note " + incID, "needs the text"},
		{"note without anything", "note", "needs the text"},
		{"status of two services", "status checkout payments", "at most one service"},
		{"status of a bad name", "status check/out", "not a service name"},
		{"too long", "note " + strings.Repeat("x", 4001), "at most 4000 fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCommand(commandBody(tt.text))
			var ue *UsageError
			if !errors.Is(err, ErrUsage) || !errors.As(err, &ue) {
				t.Fatalf("got %v, want a usage error", err)
			}
			if !strings.Contains(ue.Message, tt.want) || !strings.Contains(ue.Message, Usage) {
				t.Fatalf("got message %q, want it to say %q and show the usage", ue.Message, tt.want)
			}
		})
	}
}

func TestParseCommandMalformed(t *testing.T) {
	set := func(key, value string) []byte {
		v, _ := url.ParseQuery(string(commandBody("ack " + incID)))
		if value == "" {
			v.Del(key)
		} else {
			v.Set(key, value)
		}
		return []byte(v.Encode())
	}
	tests := []struct {
		name string
		body []byte
	}{
		{"empty body", nil},
		{"json instead of a form", []byte(`{"command":"/incident","text":"ack"}`)},
		{"bad escape", []byte("command=%2Fincident&text=%zz&user_id=U1&channel_id=C1")},
		{"no command", set("command", "")},
		{"command without a slash", set("command", "incident")},
		{"no user", set("user_id", "")},
		{"user id that is no slack id", set("user_id", "<@U123>")},
		{"no channel", set("channel_id", "")},
		{"huge body", []byte(strings.Repeat("a", maxBody+1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCommand(tt.body)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
}

func TestParseCommandResponseURL(t *testing.T) {
	tests := []struct {
		give string
		want string
	}{
		{"https://hooks.slack.com/commands/T1/2/x", "https://hooks.slack.com/commands/T1/2/x"},
		{"https://hooks.slack-gov.com/commands/T1/2/x", "https://hooks.slack-gov.com/commands/T1/2/x"},
		{"http://hooks.slack.com/commands/T1/2/x", ""},
		{"https://hooks.slack.com.evil.example/x", ""},
		{"https://169.254.169.254/latest/meta-data", ""},
		{"https://evilslack.com/x", ""},
		{"https://user@hooks.slack.com/x", ""},
		{"https://hooks.slack.com:8443/x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			v, _ := url.ParseQuery(string(commandBody("status")))
			v.Set("response_url", tt.give)
			got, err := ParseCommand([]byte(v.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			if got.ResponseURL != tt.want {
				t.Fatalf("got %q, want %q", got.ResponseURL, tt.want)
			}
		})
	}
}

// TestParseCommandFixture reads a body as Slack sends it (percent-encoded,
// with Slack's own &lt; escapes inside).
func TestParseCommandFixture(t *testing.T) {
	body, err := os.ReadFile("testdata/command-note.form")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCommand(body)
	if err != nil {
		t.Fatal(err)
	}
	want := from(Request{Action: ActionNote, IncidentID: incID, Text: "rolled back <checkout-api> to v41"})
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}
