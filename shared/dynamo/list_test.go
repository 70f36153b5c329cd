package dynamo_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// A cursor names a position in one index under one filter: an edited one, one
// of another item or filter, or a malformed one is refused with one message
// that does not echo it. (Malformed cursors are also the store contract's
// IncidentsRefuseABadCursor.)
func TestIncidentsRefuseABadCursor(t *testing.T) {
	clk := newClock()
	svc, _ := newService(t, clk, incident.Rules{})
	ctx := context.Background()
	for i := range 8 {
		clk.Advance(time.Second)
		service := []string{"web", "db"}[i%2]
		if _, err := svc.Declare(ctx, incident.Declaration{Service: service, Title: fmt.Sprintf("incident %02d", i), Actor: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	cursorOf := func(q incident.Query) string {
		t.Helper()
		page, err := svc.List(ctx, q)
		if err != nil || page.NextCursor == "" {
			t.Fatalf("got cursor %q (%v), want one", page.NextCursor, err)
		}
		return page.NextCursor
	}
	allCursor := cursorOf(incident.Query{Limit: 3})
	webCursor := cursorOf(incident.Query{Service: "web", Limit: 3})
	raw, _ := base64.RawURLEncoding.DecodeString(allCursor)
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

	tests := []struct {
		name   string
		query  incident.Query
		cursor string
	}{
		{name: "not base64", cursor: "!!not a cursor!!"},
		{name: "not JSON", cursor: enc("hello")},
		{name: "empty object", cursor: enc("{}")},
		{name: "wrong keys", cursor: enc(`{"pk":"INC#x","sk":"META","a":"b","c":"d"}`)},
		{name: "unknown field", cursor: enc(strings.Replace(string(raw), `{`, `{"pk":"INC#x",`, 1))},
		{name: "edited id", cursor: enc(strings.Replace(string(raw), `#`, `#zz`, 1))},
		{name: "edited time", cursor: enc(strings.Replace(string(raw), `"after":"`, `"after":"9`, 1))},
		{name: "no position", cursor: enc(`{"status":"","service":"","after":""}`)},
		{name: "cursor of another filter", query: incident.Query{Status: "open"}, cursor: allCursor},
		{name: "cursor of another service", query: incident.Query{Service: "db"}, cursor: webCursor},
		{name: "too long", cursor: strings.Repeat("A", 5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.query
			q.Cursor = tt.cursor
			_, err := svc.List(ctx, q)
			if !errors.Is(err, errkind.Invalid) {
				t.Fatalf("got %v, want errkind.Invalid", err)
			}
			var e *errkind.Error
			if !errors.As(err, &e) || e.Message != "cursor is not valid" {
				t.Errorf("got message %q, want %q", err, "cursor is not valid")
			}
		})
	}
}
