package escalation_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/acklink"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

const ackKey = "escalation-test-ack-link-key-0123456789"

// apiURL is an HTTP API's execute-api endpoint, the longest base a link
// usually has.
const apiURL = "https://abc123defg.execute-api.eu-central-1.amazonaws.com"

// ackEnv is newEnv with acknowledge links on.
func ackEnv(t *testing.T, links escalation.AckLinks) *env {
	t.Helper()
	e := newEnv(t)
	e.esc = escalation.NewEscalator(escalation.Config{
		Incidents: e.svc, Directory: e.dir, Pager: e.pager, AckLinks: links,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return now },
	})
	return e
}

// gsm is the length of an ASCII text in GSM 03.38 septets.
func gsm(s string) int {
	n := len(s)
	for _, c := range s {
		if strings.ContainsRune("^{}\\[~]|", c) {
			n++
		}
	}
	return n
}

// Every SNS page, e-mail and SMS, carries the responder's link; the SMS is
// one SMS (160 GSM characters, ASCII only) with the link whole.
func TestPagesCarryTheAckLink(t *testing.T) {
	signer, err := acklink.New(ackKey, apiURL, 12*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		title    string
		wantHead string
	}{
		{"short title", "Checkout is down", "SEV1 checkout: Checkout is down\nAck: "},
		// An execute-api link leaves 34 characters for the headline: the
		// title is clipped (the e-mail and the link's page have it whole).
		{"long title clipped", strings.Repeat("checkout-api p99 latency above 2s ", 5), "SEV1 checkout: checkout-api p99 la\nAck: "},
		{"non-ASCII and extension characters", "Zahlung – {EU} ü", "SEV1 checkout: Zahlung ? {EU} ?\nAck: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ackEnv(t, signer)
			inc, err := e.svc.Declare(context.Background(), incident.Declaration{
				Service: "checkout", Title: tt.title, Severity: incident.SEV1, Actor: "carol",
			})
			if err != nil {
				t.Fatal(err)
			}
			page(t, e, escalation.Input{IncidentID: inc.ID, State: oncall.Start(policy("primary"), nil)})
			if len(e.pager.pages) != 1 {
				t.Fatalf("got %d pages, want 1", len(e.pager.pages))
			}
			pg := e.pager.pages[0]
			tok, ok := strings.CutPrefix(pg.Link, apiURL+"/ack/")
			if !ok {
				t.Fatalf("got link %q, want %s/ack/<token>", pg.Link, apiURL)
			}
			l, _, err := signer.Verify(tok, now)
			if err != nil || l.IncidentID != inc.ID || l.Responder != "alice" || !l.Expires.Equal(now.Add(12*time.Hour)) {
				t.Errorf("link: got %+v %v, want alice's link to %s for 12h", l, err, inc.ID)
			}
			if !strings.Contains(pg.Message, "Acknowledge or resolve (for alice, valid 12h): "+pg.Link) {
				t.Errorf("e-mail message: got %q, want the link", pg.Message)
			}
			if !strings.HasSuffix(pg.SMS, "\nAck: "+pg.Link) || !strings.HasPrefix(pg.SMS, tt.wantHead) {
				t.Errorf("SMS: got %q, want %q… and the link", pg.SMS, tt.wantHead)
			}
			if n := gsm(pg.SMS); n > escalation.SMSLimit {
				t.Errorf("SMS: got %d GSM characters, want at most %d: %q", n, escalation.SMSLimit, pg.SMS)
			}
			for _, r := range pg.SMS {
				if r > 0x7e || (r < 0x20 && r != '\n') {
					t.Errorf("SMS: got %q in %q, want ASCII only (GSM alphabet)", r, pg.SMS)
				}
			}
		})
	}
}

type brokenLinks struct{}

func (brokenLinks) URL(string, string, time.Time) (string, error) {
	return "", errors.New("ack link: no public API URL")
}
func (brokenLinks) TTL() time.Duration { return time.Hour }

// A link that cannot be made, or links off, never hold a page back.
func TestPagesWithoutAckLink(t *testing.T) {
	tests := []struct {
		name  string
		links escalation.AckLinks
	}{
		{"links off", nil},
		{"link fails", brokenLinks{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ackEnv(t, tt.links)
			inc := e.declare(t)
			page(t, e, escalation.Input{IncidentID: inc.ID, State: oncall.Start(policy("primary"), nil)})
			if len(e.pager.pages) != 1 {
				t.Fatalf("got %d pages, want 1", len(e.pager.pages))
			}
			if pg := e.pager.pages[0]; pg.Link != "" || pg.SMS != "" || strings.Contains(pg.Message, "/ack/") {
				t.Errorf("got %+v, want a page without a link", pg)
			}
		})
	}
}
