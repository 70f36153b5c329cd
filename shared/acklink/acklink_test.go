package acklink_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/acklink"
	"github.com/incidentd/incidentd/shared/incident"
)

const key = "test-ack-link-key-0123456789abcdefghij"

func signer(t testing.TB, k string) *acklink.Signer {
	t.Helper()
	s, err := acklink.New(k, "https://abc123defg.execute-api.eu-central-1.amazonaws.com/", 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var now = time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)

func TestRoundTrip(t *testing.T) {
	s := signer(t, key)
	id := incident.NewID(now)
	u, err := s.URL(id, "alice", now)
	if err != nil {
		t.Fatal(err)
	}
	tok, ok := strings.CutPrefix(u, "https://abc123defg.execute-api.eu-central-1.amazonaws.com/ack/")
	if !ok {
		t.Fatalf("got URL %q, want the base URL and /ack/", u)
	}
	l, linkID, err := s.Verify(tok, now.Add(23*time.Hour))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := acklink.Link{IncidentID: id, Responder: "alice", Expires: now.Add(acklink.DefaultTTL)}
	if l != want {
		t.Errorf("got %+v, want %+v", l, want)
	}
	if len(linkID) != 22 {
		t.Errorf("got link id %q, want 22 characters (128 bits)", linkID)
	}
	// 43 bytes for "alice": 58 characters; the URL of an execute-api
	// endpoint 120, which leaves an SMS of 160 room for the headline.
	if len(tok) != 58 || len(u) != 120 {
		t.Errorf("got token of %d and URL of %d characters, want 58 and 120", len(tok), len(u))
	}
}

func TestVerifyRefuses(t *testing.T) {
	s := signer(t, key)
	id := incident.NewID(now)
	tok, err := s.Token(acklink.Link{IncidentID: id, Responder: "alice", Expires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := signer(t, strings.Repeat("x", 40)).Token(acklink.Link{IncidentID: id, Responder: "alice", Expires: now.Add(time.Hour)})
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	flip := func(i int) string {
		b := append([]byte{}, raw...)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	tests := []struct {
		name  string
		token string
		at    time.Time
		want  error
	}{
		{"expiry changed", flip(4), now, acklink.ErrTampered},
		{"incident changed", flip(10), now, acklink.ErrTampered},
		{"responder changed", flip(22), now, acklink.ErrTampered},
		{"MAC changed", flip(len(raw) - 1), now, acklink.ErrTampered},
		{"cut off", tok[:len(tok)-3], now, acklink.ErrTampered},
		{"another key", other, now, acklink.ErrTampered},
		{"empty", "", now, acklink.ErrTampered},
		{"not base64", "!!!!" + tok[4:], now, acklink.ErrTampered},
		{"too long", strings.Repeat("A", 500), now, acklink.ErrTampered},
		{"expired", tok, now.Add(time.Hour), acklink.ErrExpired},
		{"valid", tok, now.Add(time.Hour - time.Second), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.Verify(tt.token, tt.at)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTokenRefuses(t *testing.T) {
	s := signer(t, key)
	tests := []struct {
		name string
		give acklink.Link
	}{
		{"not an incident id", acklink.Link{IncidentID: "INC-1", Responder: "alice", Expires: now}},
		{"no responder", acklink.Link{IncidentID: incident.NewID(now), Expires: now}},
		{"long responder", acklink.Link{IncidentID: incident.NewID(now), Responder: strings.Repeat("a", 65), Expires: now}},
		{"no expiry", acklink.Link{IncidentID: incident.NewID(now), Responder: "alice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tok, err := s.Token(tt.give); err == nil {
				t.Errorf("got token %q, want an error", tok)
			}
		})
	}
}

func TestNewRefusesAShortKey(t *testing.T) {
	if _, err := acklink.New(strings.Repeat("k", acklink.MinKeyLength-1), "", 0); err == nil {
		t.Errorf("got no error for a %d-byte key, want one", acklink.MinKeyLength-1)
	}
}

func TestCSRF(t *testing.T) {
	s := signer(t, key)
	v := s.CSRF("link-a")
	if v == s.CSRF("link-a") {
		t.Errorf("got the same CSRF token twice, want a new nonce each time")
	}
	tests := []struct {
		name          string
		link          string
		field, cookie string
		want          bool
	}{
		{"field and cookie", "link-a", v, v, true},
		{"no cookie", "link-a", v, "", false},
		{"no field", "link-a", "", v, false},
		{"differ", "link-a", v, s.CSRF("link-a"), false},
		{"another link's", "link-b", v, v, false},
		{"another key's", "link-a", signer(t, strings.Repeat("y", 40)).CSRF("link-a"), signer(t, strings.Repeat("y", 40)).CSRF("link-a"), false},
		{"garbage", "link-a", "abc", "abc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.CheckCSRF(tt.link, tt.field, tt.cookie); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// Verify reads outside input: it must never panic, and a token it accepts
// must be one it would make.
func FuzzVerify(f *testing.F) {
	s := signer(f, key)
	tok, _ := s.Token(acklink.Link{IncidentID: incident.NewID(now), Responder: "alice", Expires: now.Add(time.Hour)})
	f.Add(tok)
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, token string) {
		l, _, err := s.Verify(token, now)
		if err != nil {
			return
		}
		again, err := s.Token(l)
		if err != nil || again != token {
			t.Errorf("accepted %q as %+v, which signs as %q (%v)", token, l, again, err)
		}
	})
}
