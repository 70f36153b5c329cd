package dynamo_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/clock/clocktest"
	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

// seedIncidents declares 30 incidents a second apart on two services: every
// third resolved, every third acknowledged, the rest triggered. It returns
// them newest first.
func seedIncidents(t *testing.T, svc *incident.Service, clk *clocktest.Clock) []incident.Incident {
	t.Helper()
	ctx := context.Background()
	var all []incident.Incident
	for i := range 30 {
		clk.Advance(time.Second)
		service := []string{"web", "db"}[i%2]
		inc, err := svc.Declare(ctx, incident.Declaration{Service: service, Title: fmt.Sprintf("incident %02d", i), Actor: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		switch i % 3 {
		case 0:
			inc, err = svc.Resolve(ctx, inc.ID, "alice", incident.Resolution{})
		case 1:
			inc, err = svc.Acknowledge(ctx, inc.ID, "alice")
		}
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, inc)
	}
	slices.Reverse(all)
	return all
}

func TestIncidentsPageThroughEveryFilter(t *testing.T) {
	clk := newClock()
	svc, _ := newService(t, clk, incident.Rules{})
	all := seedIncidents(t, svc, clk)
	ctx := context.Background()

	tests := []struct {
		status, service string
		wantCount       int
	}{
		{status: "", wantCount: 30},
		{status: "open", wantCount: 20},
		{status: "triggered", wantCount: 10},
		{status: "acknowledged", wantCount: 10},
		{status: "resolved", wantCount: 10},
		{service: "web", wantCount: 15},
		{service: "db", status: "open", wantCount: 10},
		{service: "web", status: "resolved", wantCount: 5},
		{service: "db", status: "triggered", wantCount: 5},
		{service: "nobody", wantCount: 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("status=%s,service=%s", tt.status, tt.service), func(t *testing.T) {
			var want []string
			for _, inc := range all {
				if (tt.service == "" || inc.Service == tt.service) &&
					(tt.status == "" || string(inc.Status) == tt.status || tt.status == "open" && inc.Status.Open()) {
					want = append(want, inc.ID)
				}
			}
			if len(want) != tt.wantCount {
				t.Fatalf("the seed has %d matches, the test expects %d", len(want), tt.wantCount)
			}
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatalf("still paging after %d pages", pages)
				}
				page, err := svc.List(ctx, incident.Query{Status: tt.status, Service: tt.service, Limit: 7, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Items) > 7 {
					t.Fatalf("got a page of %d, want at most 7", len(page.Items))
				}
				if page.NextCursor != "" && len(page.Items) < 7 {
					t.Errorf("got a short page of %d with a cursor, want full pages until the end", len(page.Items))
				}
				got = append(got, ids(page.Items)...)
				if page.NextCursor == "" {
					break
				}
				cursor = page.NextCursor
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %d incidents %v,\nwant %d newest first %v", len(got), got, len(want), want)
			}
		})
	}
}

func TestIncidentsRefuseABadCursor(t *testing.T) {
	clk := newClock()
	svc, _ := newService(t, clk, incident.Rules{})
	seedIncidents(t, svc, clk)
	ctx := context.Background()
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
		{name: "edited id", cursor: enc(strings.Replace(string(raw), "INC#", "INC#zz", 1))},
		{name: "other table item", cursor: enc(strings.Replace(string(raw), `"META"`, `"DEDUP"`, 1))},
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

// A responder resolves an incident while someone pages through the open ones:
// the next page still continues after it.
func TestOpenCursorSurvivesItsIncidentResolving(t *testing.T) {
	clk := newClock()
	svc, _ := newService(t, clk, incident.Rules{})
	all := seedIncidents(t, svc, clk)
	ctx := context.Background()
	first, err := svc.List(ctx, incident.Query{Status: "open", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	last := first.Items[len(first.Items)-1]
	if _, err := svc.Resolve(ctx, last.ID, "alice", incident.Resolution{}); err != nil {
		t.Fatal(err)
	}
	next, err := svc.List(ctx, incident.Query{Status: "open", Limit: 5, Cursor: first.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, inc := range all {
		if inc.Status.Open() && inc.CreatedAt.Before(last.CreatedAt) {
			want = append(want, inc.ID)
		}
	}
	if got := ids(next.Items); !slices.Equal(got, want[:5]) {
		t.Errorf("got %v, want %v", got, want[:5])
	}
}
