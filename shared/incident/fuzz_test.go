package incident_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/incidentd/incidentd/shared/errkind"
	"github.com/incidentd/incidentd/shared/incident"
)

func FuzzParseSeverity(f *testing.F) {
	for _, s := range []string{"SEV1", "sev2", " 3 ", "4", "", "SEV0", "SEV5", "critical", "ＳＥＶ１", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := incident.ParseSeverity(s)
		if err != nil {
			if !errors.Is(err, errkind.Invalid) || got != "" {
				t.Fatalf("ParseSeverity(%q): got %q, %v; want \"\" and errkind.Invalid", s, got, err)
			}
			return
		}
		if !got.Valid() {
			t.Fatalf("ParseSeverity(%q): got %q, want a valid severity", s, got)
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{"triggered", "acknowledged", "identified", "resolved", "open", "", "RESOLVED"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := incident.ParseStatus(s)
		if err != nil {
			if !errors.Is(err, errkind.Invalid) {
				t.Fatalf("ParseStatus(%q): got error %v, want errkind.Invalid", s, err)
			}
			return
		}
		if string(got) != s {
			t.Fatalf("ParseStatus(%q): got %q, want it unchanged", s, got)
		}
	})
}

// FuzzIngest feeds the service signals as a parser would build them from
// outside input: it must refuse them as invalid or store something sane.
func FuzzIngest(f *testing.F) {
	f.Add("alarm", "trigger", "checkout", "arn:aws:cloudwatch:us-east-1:1:alarm:cpu", "SEV2", "CPU high", "details", "sample")
	f.Add("log", "", "payments", "log:payments:npe", "", "", strings.Repeat("€", 2000), strings.Repeat("x", 2000))
	f.Add("report", "recover", "", "report:x", "SEV9", "ü", "", "")
	f.Add("manual", "info", "Bad Name", "k", "sev1", "\xff\xfe", "\x00", "")
	f.Fuzz(func(t *testing.T, source, kind, service, key, severity, title, text, sample string) {
		e := newEnv(t, incident.Rules{})
		sig := incident.Signal{
			Source: incident.Source(source), Kind: incident.SignalKind(kind), Service: service, DedupKey: key,
			Severity: incident.Severity(severity), Title: title, Text: text, At: t0, Samples: []string{sample},
		}
		res, err := e.svc.Ingest(context.Background(), sig)
		if err != nil {
			if !errors.Is(err, errkind.Invalid) {
				t.Fatalf("Ingest(%+v): got error %v, want errkind.Invalid or success", sig, err)
			}
			return
		}
		if res.Outcome == incident.Ignored {
			return
		}
		inc, tl, _, err := e.svc.Get(context.Background(), res.IncidentID)
		if err != nil {
			t.Fatalf("Get(%s): %v", res.IncidentID, err)
		}
		if !inc.Severity.Valid() || inc.Status != incident.StatusTriggered || incident.ValidateServiceName(inc.Service) != nil {
			t.Fatalf("incident: got severity %q, status %q, service %q", inc.Severity, inc.Status, inc.Service)
		}
		if inc.Title == "" || len(inc.Title) > 200 || utf8.ValidString(title) && !utf8.ValidString(inc.Title) {
			t.Fatalf("title: got %q (%d bytes) from %q", inc.Title, len(inc.Title), title)
		}
		if len(tl) != 1 || tl[0].Kind != incident.EntryOpened {
			t.Fatalf("timeline: got %v, want one opened entry", kinds(tl))
		}
	})
}
