package oncall_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/incidentd/incidentd/shared/oncall"
)

// parseICS reads an export back with golang-ical into shifts and UIDs.
func parseICS(t *testing.T, b []byte) ([]oncall.Shift, []string) {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("ParseCalendar: %v", err)
	}
	var shifts []oncall.Shift
	var uids []string
	for _, ev := range cal.Events() {
		start, err := ev.GetStartAt()
		if err != nil {
			t.Fatalf("DTSTART: %v", err)
		}
		end, err := ev.GetEndAt()
		if err != nil {
			t.Fatalf("DTEND: %v", err)
		}
		summary := ev.GetProperty(ics.ComponentPropertySummary)
		if summary == nil {
			t.Fatalf("event %s has no SUMMARY", ev.Id())
		}
		user, ok := strings.CutPrefix(summary.Value, "On call: ")
		if !ok {
			t.Fatalf("SUMMARY: got %q, want \"On call: <user>\"", summary.Value)
		}
		shifts = append(shifts, oncall.Shift{User: user, Start: start, End: end})
		uids = append(uids, ev.Id())
	}
	return shifts, uids
}

func TestICSParsesBackToTheShifts(t *testing.T) {
	s := &oncall.Schedule{Name: "Checkout primary", TimeZone: "Europe/Berlin",
		Rotations: []oncall.Rotation{
			daily("2026-10-20T09:00:00+02:00", "alice", "bob", "carol"),
			withEnd(hourly("2026-10-25T00:00:00+02:00", "xavier", "yann"), "2026-10-25T05:00:00+01:00"),
		},
		Overrides: []oncall.Override{override("dave", "2026-10-27T18:00:00Z", "2026-10-28T06:00:00Z")},
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	from, to := ts("2026-10-23T00:00:00Z"), ts("2026-11-06T00:00:00Z")
	want, err := oncall.Shifts(s, from, to)
	if err != nil {
		t.Fatal(err)
	}
	b, err := oncall.ICS(s, from, to)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"BEGIN:VCALENDAR", "METHOD:PUBLISH", "X-WR-CALNAME:Checkout primary", "DTSTART:20261025T000000Z", "DTEND:20261025T020000Z"} {
		if !bytes.Contains(b, []byte(line+"\r\n")) {
			t.Errorf("export lacks the line %q", line)
		}
	}
	got, uids := parseICS(t, b)
	if !reflect.DeepEqual(times(got), times(want)) {
		t.Errorf("parsed back:\ngot\n%s\nwant\n%s", formatShifts(got, time.UTC), formatShifts(want, time.UTC))
	}
	if len(got) < 15 {
		t.Errorf("got %d events, want the 14 days and the hourly morning", len(got))
	}
	seen := map[string]bool{}
	for _, u := range uids {
		if seen[u] {
			t.Errorf("UID %s appears twice", u)
		}
		seen[u] = true
	}

	// A later window: shifts in both keep their UIDs, so a subscribed
	// calendar updates instead of duplicating.
	b2, err := oncall.ICS(s, from.Add(48*time.Hour), to.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got2, uids2 := parseICS(t, b2)
	kept := 0
	for i, sh := range got2 {
		for j, old := range got {
			if sh.User == old.User && sh.Start.Equal(old.Start) {
				kept++
				if uids2[i] != uids[j] {
					t.Errorf("shift %s at %s: got UID %s, want %s as before", sh.User, sh.Start, uids2[i], uids[j])
				}
			}
		}
	}
	if kept < 10 {
		t.Errorf("got %d shifts common to both windows, want at least 10", kept)
	}

	// The same window gives the same bytes.
	b3, _ := oncall.ICS(s, from, to)
	if !bytes.Equal(b, b3) {
		t.Error("two exports of one window differ")
	}
}

func TestICSWindow(t *testing.T) {
	s := &oncall.Schedule{Name: "s", TimeZone: "UTC"}
	from := ts("2026-01-01T00:00:00Z")
	if _, err := oncall.ICS(s, from, from.Add(400*24*time.Hour)); err == nil {
		t.Error("a 400-day export: got no error, want one")
	}
	b, err := oncall.ICS(s, from, from.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := parseICS(t, b); len(got) != 0 {
		t.Errorf("a schedule with nobody: got %d events, want 0", len(got))
	}
}

// times makes shifts comparable with reflect.DeepEqual whatever their locations.
func times(shifts []oncall.Shift) []string {
	var out []string
	for _, s := range shifts {
		out = append(out, s.User+" "+s.Start.UTC().Format(time.RFC3339)+" "+s.End.UTC().Format(time.RFC3339))
	}
	return out
}

func withEnd(r oncall.Rotation, e string) oncall.Rotation {
	r.End = end(e)
	return r
}
