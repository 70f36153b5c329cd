package incident_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

func TestParseSeverity(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    incident.Severity
		wantErr error
	}{
		{name: "canonical", give: "SEV1", want: incident.SEV1},
		{name: "lower case", give: "sev2", want: incident.SEV2},
		{name: "mixed case, spaces", give: "  Sev3 ", want: incident.SEV3},
		{name: "digit only", give: "4", want: incident.SEV4},
		{name: "empty", give: "", wantErr: errkind.Invalid},
		{name: "zero", give: "0", wantErr: errkind.Invalid},
		{name: "five", give: "SEV5", wantErr: errkind.Invalid},
		{name: "word", give: "critical", wantErr: errkind.Invalid},
		{name: "inner space", give: "SEV 1", wantErr: errkind.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := incident.ParseSeverity(tt.give)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseSeverity(%q): got error %v, want %v", tt.give, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseSeverity(%q): got %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

func TestSeverityMoreSevereThan(t *testing.T) {
	tests := []struct {
		name string
		give [2]incident.Severity
		want bool
	}{
		{name: "SEV1 over SEV2", give: [2]incident.Severity{incident.SEV1, incident.SEV2}, want: true},
		{name: "SEV1 over SEV4", give: [2]incident.Severity{incident.SEV1, incident.SEV4}, want: true},
		{name: "SEV3 over SEV4", give: [2]incident.Severity{incident.SEV3, incident.SEV4}, want: true},
		{name: "SEV4 not over SEV3", give: [2]incident.Severity{incident.SEV4, incident.SEV3}, want: false},
		{name: "equal is not more", give: [2]incident.Severity{incident.SEV2, incident.SEV2}, want: false},
		{name: "any over unset", give: [2]incident.Severity{incident.SEV4, ""}, want: true},
		{name: "unset over nothing", give: [2]incident.Severity{"", incident.SEV4}, want: false},
		{name: "unknown over nothing", give: [2]incident.Severity{"SEV0", incident.SEV4}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.give[0].MoreSevereThan(tt.give[1]); got != tt.want {
				t.Errorf("%q.MoreSevereThan(%q): got %v, want %v", tt.give[0], tt.give[1], got, tt.want)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    incident.Status
		wantErr error
	}{
		{name: "triggered", give: "triggered", want: incident.StatusTriggered},
		{name: "acknowledged", give: "acknowledged", want: incident.StatusAcknowledged},
		{name: "identified", give: "identified", want: incident.StatusIdentified},
		{name: "resolved", give: "resolved", want: incident.StatusResolved},
		{name: "open is a filter, not a status", give: "open", wantErr: errkind.Invalid},
		{name: "upper case", give: "RESOLVED", wantErr: errkind.Invalid},
		{name: "empty", give: "", wantErr: errkind.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := incident.ParseStatus(tt.give)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseStatus(%q): got error %v, want %v", tt.give, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseStatus(%q): got %q, want %q", tt.give, got, tt.want)
			}
		})
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	base := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		give  []time.Time // in creation order
		wantN int
	}{
		{name: "milliseconds apart", give: []time.Time{base, base.Add(time.Millisecond), base.Add(2 * time.Millisecond)}},
		{name: "years apart", give: []time.Time{base.AddDate(-5, 0, 0), base, base.AddDate(30, 0, 0)}},
		// Entries written together share a time; the timeline orders them by id.
		{name: "same millisecond", give: slices.Repeat([]time.Time{base}, 50)},
		{name: "same millisecond, different nanoseconds", give: []time.Time{base, base.Add(100), base.Add(999_999)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			for _, at := range tt.give {
				ids = append(ids, incident.NewID(at))
			}
			for i, id := range ids {
				if !incident.ValidID(id) {
					t.Errorf("ValidID(%q): got false, want true", id)
				}
				if i > 0 && id <= ids[i-1] {
					t.Errorf("id %d %q sorts before or equal to id %d %q, want after", i, id, i-1, ids[i-1])
				}
			}
		})
	}
}

func TestNewIDSortsWithinInterleavedTimes(t *testing.T) {
	// A reopen writes entries at now, at the signal's earlier time, and at now
	// again: the two at now must still sort in the order they were made.
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for i := range 200 {
		at := now.Add(-time.Duration(i+1) * time.Second)
		first := incident.NewID(now)
		incident.NewID(at)
		incident.NewID(at.Add(time.Millisecond))
		if second := incident.NewID(now); second <= first {
			t.Fatalf("round %d: id %q made after %q sorts before it", i, second, first)
		}
	}
}

func TestNewIDDiffersAcrossTimes(t *testing.T) {
	// Ids of different milliseconds must not collide even when the random part
	// restarts; a collision would overwrite an incident.
	base := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for i := range 1000 {
		id := incident.NewID(base.Add(time.Duration(i%3) * time.Millisecond))
		if seen[id] {
			t.Fatalf("NewID made %q twice", id)
		}
		seen[id] = true
	}
}

func TestValidID(t *testing.T) {
	good := incident.NewID(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	tests := []struct {
		name string
		give string
		want bool
	}{
		{name: "made by NewID", give: good, want: true},
		{name: "empty", give: "", want: false},
		{name: "too short", give: good[:25], want: false},
		{name: "too long", give: good + "0", want: false},
		{name: "hand-written", give: "01jd2x6q8m0000000000000000", want: true},
		// Ids are stored and compared lower-case; an upper-cased copy is not found.
		{name: "upper case", give: "01JD2X6Q8M0000000000000000", want: false},
		{name: "first digit beyond 128 bits", give: "8" + good[1:], want: false},
		{name: "ambiguous letter u", give: good[:25] + "u", want: false},
		{name: "ambiguous letter i", give: good[:25] + "i", want: false},
		{name: "path traversal", give: "../../../../../../etc/pass", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := incident.ValidID(tt.give); got != tt.want {
				t.Errorf("ValidID(%q): got %v, want %v", tt.give, got, tt.want)
			}
		})
	}
}

func TestServiceConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		give    incident.ServiceConfig
		wantErr error
	}{
		{name: "name only", give: incident.ServiceConfig{Name: "checkout"}},
		{name: "everything set", give: incident.ServiceConfig{
			Name: "checkout-api.v2", Policy: "checkout", DefaultSeverity: incident.SEV2, AutoResolve: true,
			PagingSeverities: []incident.Severity{incident.SEV1, incident.SEV2}, Alarms: []string{"checkout-*"},
			ReportThreshold: 5, ReportWindowMinutes: 60, ReportSeverity: incident.SEV1,
		}},
		{name: "empty name", give: incident.ServiceConfig{}, wantErr: errkind.Invalid},
		{name: "upper-case name", give: incident.ServiceConfig{Name: "Checkout"}, wantErr: errkind.Invalid},
		{name: "name with space", give: incident.ServiceConfig{Name: "check out"}, wantErr: errkind.Invalid},
		{name: "name starting with dash", give: incident.ServiceConfig{Name: "-checkout"}, wantErr: errkind.Invalid},
		{name: "name of 64 characters", give: incident.ServiceConfig{Name: strings.Repeat("a", 64)}, wantErr: errkind.Invalid},
		{name: "name of 63 characters", give: incident.ServiceConfig{Name: strings.Repeat("a", 63)}},
		{name: "bad default severity", give: incident.ServiceConfig{Name: "a", DefaultSeverity: "SEV0"}, wantErr: errkind.Invalid},
		{name: "lower-case default severity", give: incident.ServiceConfig{Name: "a", DefaultSeverity: "sev1"}, wantErr: errkind.Invalid},
		{name: "bad report severity", give: incident.ServiceConfig{Name: "a", ReportSeverity: "high"}, wantErr: errkind.Invalid},
		{name: "bad paging severity", give: incident.ServiceConfig{Name: "a", PagingSeverities: []incident.Severity{incident.SEV1, "SEV9"}}, wantErr: errkind.Invalid},
		{name: "negative threshold", give: incident.ServiceConfig{Name: "a", ReportThreshold: -1}, wantErr: errkind.Invalid},
		{name: "huge threshold", give: incident.ServiceConfig{Name: "a", ReportThreshold: 1001}, wantErr: errkind.Invalid},
		{name: "negative window", give: incident.ServiceConfig{Name: "a", ReportWindowMinutes: -5}, wantErr: errkind.Invalid},
		{name: "window over a week", give: incident.ServiceConfig{Name: "a", ReportWindowMinutes: 7*24*60 + 1}, wantErr: errkind.Invalid},
		{name: "empty alarm name", give: incident.ServiceConfig{Name: "a", Alarms: []string{""}}, wantErr: errkind.Invalid},
		{name: "alarm name too long", give: incident.ServiceConfig{Name: "a", Alarms: []string{strings.Repeat("x", 256)}}, wantErr: errkind.Invalid},
		{name: "too many alarms", give: incident.ServiceConfig{Name: "a", Alarms: slices.Repeat([]string{"x"}, 101)}, wantErr: errkind.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.give
			if err := c.Validate(); !errors.Is(err, tt.wantErr) {
				t.Errorf("Validate(%+v): got error %v, want %v", tt.give, err, tt.wantErr)
			}
		})
	}
}

func TestServiceConfigWithDefaults(t *testing.T) {
	got := incident.ServiceConfig{Name: "checkout"}.WithDefaults()
	if got.ReportThreshold != incident.DefaultReportThreshold {
		t.Errorf("ReportThreshold: got %d, want %d", got.ReportThreshold, incident.DefaultReportThreshold)
	}
	if want := int(incident.DefaultReportWindow / time.Minute); got.ReportWindowMinutes != want {
		t.Errorf("ReportWindowMinutes: got %d, want %d", got.ReportWindowMinutes, want)
	}
	if got.ReportSeverity != incident.DefaultRaisedSeverity {
		t.Errorf("ReportSeverity: got %q, want %q", got.ReportSeverity, incident.DefaultRaisedSeverity)
	}
	if !slices.Equal(got.PagingSeverities, incident.DefaultPagingSeverities) {
		t.Errorf("PagingSeverities: got %v, want %v", got.PagingSeverities, incident.DefaultPagingSeverities)
	}
}
