package slack

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/incident"
)

// Run one with: go test -run='^$' -fuzz=FuzzVerify -fuzztime=60s ./shared/slack

func fixture(f *testing.F, name string) []byte {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzVerify: no input panics, every refusal is one of the documented errors,
// and nothing verifies that was not signed with the secret inside the window.
func FuzzVerify(f *testing.F) {
	body := fixture(f, "signing-example.form")
	f.Add(docTimestamp, docSignature, body, int64(30))
	f.Add(docTimestamp, docSignature, body, int64(301))
	f.Add(docTimestamp, "v0="+strings.Repeat("0", 64), body, int64(0))
	f.Add("+1531420618", docSignature, body, int64(0))
	f.Add("", "", []byte{}, int64(0))
	f.Add("1531420618", "v0=", fixture(f, "command-note.form"), int64(-300))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte, offset int64) {
		now := docTime.Add(time.Duration(offset%1e6) * time.Second)
		h := http.Header{HeaderTimestamp: {ts}, HeaderSignature: {sig}}
		err := Verify(docSecret, h, body, now)
		if err != nil {
			for _, known := range []error{ErrMissingHeader, ErrMalformedHeader, ErrStaleTimestamp, ErrBadSignature} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("got undocumented error %v", err)
		}
		if strings.ToLower(sig) != Sign(docSecret, ts, body) {
			t.Fatalf("verified %q for ts %q, want only %q", sig, ts, Sign(docSecret, ts, body))
		}
		n, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil || now.Sub(time.Unix(n, 0)).Abs() > MaxSkew {
			t.Fatalf("verified timestamp %q at %s", ts, now)
		}
		// What verifies must stop verifying when one byte of the body changes.
		tampered := append([]byte{'x'}, body...)
		if Verify(docSecret, h, tampered, now) == nil {
			t.Fatal("a tampered body verified")
		}
		if Verify(docSecret+"x", h, body, now) == nil {
			t.Fatal("another secret verified")
		}
	})
}

// FuzzParseCommand: no panic; a parsed command is one the API layer can act on.
func FuzzParseCommand(f *testing.F) {
	f.Add(fixture(f, "command-note.form"))
	f.Add(fixture(f, "signing-example.form"))
	for _, text := range []string{"", "help", "ack " + incID, "ACK " + strings.ToUpper(incID), "resolve fixed it",
		"note " + incID + " a\nb &lt;x&gt;", "status checkout", "status", "note", "ack 01JD5X3K8Q2M4N6P7R9S0T1VUU", "escalate now"} {
		f.Add(commandBody(text))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseCommand(body)
		if err != nil {
			var ue *UsageError
			switch {
			case errors.As(err, &ue):
				if !strings.Contains(ue.Message, Usage) {
					t.Fatalf("got usage message %q without the usage", ue.Message)
				}
			case errors.Is(err, ErrMalformed):
			default:
				t.Fatalf("got undocumented error %v", err)
			}
			return
		}
		checkRequest(t, req)
		switch req.Action {
		case ActionHelp, ActionAcknowledge, ActionResolve, ActionStatus:
		case ActionNote:
			if req.Text == "" {
				t.Fatal("got a note without text")
			}
		default:
			t.Fatalf("got action %q", req.Action)
		}
		if req.Action != ActionStatus && req.Service != "" {
			t.Fatalf("got service %q on %s", req.Service, req.Action)
		}
		if req.Service != "" && incident.ValidateServiceName(req.Service) != nil {
			t.Fatalf("got service %q", req.Service)
		}
		if req.MessageTS != "" {
			t.Fatalf("got message ts %q from a command", req.MessageTS)
		}
	})
}

// FuzzParseInteraction: no panic; a parsed click names one of our buttons
// and a valid incident. With asPayload the input is the JSON payload, put in
// the form as Slack does, so the fuzzer mutates the JSON rather than its
// percent-encoding.
func FuzzParseInteraction(f *testing.F) {
	raw := fixture(f, "block_actions.json")
	f.Add(raw, true)
	f.Add([]byte("payload="+string(raw)), false)
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1"},"channel":{"id":"C1"},"actions":[{"action_id":"incident_resolve","value":"`+incID+`"}]}`), true)
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1"},"container":{"channel_id":"C1"},"actions":[{"action_id":"x"},{"action_id":"incident_ack","value":"`+strings.ToUpper(incID)+`"}]}`), true)
	f.Add([]byte(`{"type":"view_submission"}`), true)
	f.Add([]byte(`payload=null`), false)
	f.Fuzz(func(t *testing.T, data []byte, asPayload bool) {
		body := data
		if asPayload {
			body = []byte(url.Values{"payload": {string(data)}}.Encode())
		}
		req, err := ParseInteraction(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("got undocumented error %v", err)
			}
			return
		}
		checkRequest(t, req)
		if req.Action != ActionAcknowledge && req.Action != ActionResolve || req.IncidentID == "" {
			t.Fatalf("got %s of %q", req.Action, req.IncidentID)
		}
		if req.Text != "" || req.Service != "" {
			t.Fatalf("got text %q, service %q from a click", req.Text, req.Service)
		}
	})
}

func checkRequest(t *testing.T, req Request) {
	t.Helper()
	if !slackID.MatchString(req.UserID) || !slackID.MatchString(req.ChannelID) {
		t.Fatalf("got user %q, channel %q", req.UserID, req.ChannelID)
	}
	if req.TeamID != "" && !slackID.MatchString(req.TeamID) {
		t.Fatalf("got team %q", req.TeamID)
	}
	if req.IncidentID != "" && !incident.ValidID(req.IncidentID) {
		t.Fatalf("got incident id %q", req.IncidentID)
	}
	if req.ResponseURL != "" && responseURL(req.ResponseURL) == "" {
		t.Fatalf("got response url %q", req.ResponseURL)
	}
	if len(req.Text) > maxText || len(req.UserName) > maxName || len(req.MessageTS) > 64 {
		t.Fatalf("got text of %d, user name of %d, ts of %d bytes", len(req.Text), len(req.UserName), len(req.MessageTS))
	}
	for _, s := range []string{req.Text, req.UserName, req.MessageTS} {
		if !utf8Valid(s) {
			t.Fatalf("got invalid UTF-8 %q", s)
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }
