package postmortem_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"text/template"
	"time"

	"github.com/incidentd/incidentd/shared/deploy"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/postmortem"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr(t time.Time) *time.Time { return &t }

// resolved is a checkout incident opened by an alarm, acknowledged,
// identified and resolved, with the post-mortem's fields written.
func resolved() incident.Incident {
	return incident.Incident{
		ID: "01jabcdefghjkmnpqrstvwxyz0", Service: "checkout", Title: "checkout-5xx in ALARM",
		Severity: incident.SEV2, Status: incident.StatusResolved, Source: incident.SourceAlarm,
		StartedAt: at("2026-11-24T09:10:00Z"), CreatedAt: at("2026-11-24T09:11:30Z"),
		AcknowledgedAt: ptr(at("2026-11-24T09:20:00Z")), IdentifiedAt: ptr(at("2026-11-24T09:40:00Z")),
		ResolvedAt: ptr(at("2026-11-24T10:40:05Z")), Commander: "alice",
		RootCause:         "The connection pool was sized for 20 connections; v2.3.0 opened one per request.",
		Fix:               "Rolled back to v2.2.9, then shipped v2.3.1 with a pool of 100.",
		WentWell:          "The alarm fired within two minutes.\nThe rollback took five minutes.",
		WentWrong:         "The first page went to someone on leave.",
		ActionItems:       []string{"Alarm on pool saturation (owner: bob)", "Load test connection handling before release"},
		CauseDeploymentID: "deploy-230",
	}
}

func timeline() []incident.Entry {
	return []incident.Entry{
		{ID: "e1", At: at("2026-11-24T09:11:30Z"), Kind: incident.EntryOpened, Actor: "alarms", Text: "checkout-5xx in ALARM: Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0)."},
		{ID: "e2", At: at("2026-11-24T09:11:31Z"), Kind: incident.EntryPaged, Actor: "escalate", Text: "paged bob (level 1)"},
		{ID: "e3", At: at("2026-11-24T09:20:00Z"), Kind: incident.EntryAcknowledged, Actor: "carol", Text: "acknowledged by carol"},
		{ID: "e4", At: at("2026-11-24T09:40:00Z"), Kind: incident.EntryIdentified, Actor: "carol", Text: "cause identified by carol: pool exhausted"},
		{ID: "e5", At: at("2026-11-24T09:50:00Z"), Kind: incident.EntryNote, Actor: "alice", Text: "rolling back\nETA 5 minutes"},
		{ID: "e6", At: at("2026-11-24T10:40:05Z"), Kind: incident.EntryResolved, Actor: "carol", Text: "resolved by carol"},
	}
}

// reportTimeline is a timeline opened by a user report, nobody acknowledging.
func reportTimeline() []incident.Entry {
	return []incident.Entry{
		{ID: "e1", At: at("2026-11-24T09:11:30Z"), Kind: incident.EntryOpened, Actor: "Ana", Text: "Checkout page times out"},
		{ID: "e2", At: at("2026-11-24T09:30:00Z"), Kind: incident.EntryReport, Actor: "Ben", Text: "Cannot pay"},
		{ID: "e3", At: at("2026-11-24T10:40:05Z"), Kind: incident.EntryResolved, Actor: "carol", Text: "resolved by carol"},
	}
}

func deployments() []deploy.Record {
	return []deploy.Record{
		{ID: "deploy-229", Service: "checkout", Environment: "production", Version: "v2.2.9", Status: deploy.Succeeded,
			StartedAt: at("2026-11-24T05:00:00Z"), FinishedAt: at("2026-11-24T05:05:00Z")},
		{ID: "deploy-230", Service: "checkout", Environment: "production", Version: "v2.3.0", CommitSHA: "4f2a9c1",
			Status: deploy.Succeeded, StartedAt: at("2026-11-24T08:50:00Z"), FinishedAt: at("2026-11-24T09:02:00Z")},
	}
}

type golden struct {
	name string
	give postmortem.Input
}

// goldens are the inputs of the golden files in testdata.
func goldens() []golden {
	full := resolved()
	cause := deployments()[1]

	missing := resolved()
	missing.RootCause, missing.Fix, missing.WentWell, missing.WentWrong, missing.ActionItems = "", "", "", "", nil
	missing.CauseDeploymentID = ""

	reopened := resolved()
	reopened.ReopenCount = 1
	reopened.ResolvedAt = ptr(at("2026-11-24T11:30:00Z"))
	reopenedTimeline := append(timeline(),
		incident.Entry{ID: "e7", At: at("2026-11-24T10:55:00Z"), Kind: incident.EntryReopened, Actor: "alarms", Text: "checkout-5xx in ALARM again: reopened"},
		incident.Entry{ID: "e8", At: at("2026-11-24T11:30:00Z"), Kind: incident.EntryResolved, Actor: "carol", Text: "resolved by carol"},
	)

	nodeploy := resolved()
	nodeploy.CauseDeploymentID = ""
	nodeploy.Source = incident.SourceReport
	nodeploy.Title = "Checkout page times out"
	nodeploy.AcknowledgedAt = nil

	return []golden{
		{name: "full", give: postmortem.Input{
			Incident: full, Timeline: timeline(), Cause: &cause, Deployments: deployments(),
			Reports: []incident.Report{
				{ID: "r2", At: at("2026-11-24T09:14:00Z"), ReporterName: "Ben", ReporterEmail: "ben@example.com", Summary: "Cannot pay"},
				{ID: "r1", At: at("2026-11-24T09:12:00Z"), ReporterName: "Ana", ReporterEmail: "ana@example.com", Summary: "Checkout page times out",
					Description: "Spinner forever.\nTried twice.", AffectedUsers: 30},
			},
		}},
		{name: "missing-root-cause", give: postmortem.Input{Incident: missing, Timeline: timeline(), Deployments: deployments()}},
		{name: "reopened", give: postmortem.Input{Incident: reopened, Timeline: reopenedTimeline, Cause: &cause, Deployments: deployments()}},
		{name: "no-deployments", give: postmortem.Input{Incident: nodeploy, Timeline: reportTimeline(), Truncated: true,
			Reports: []incident.Report{{ID: "r1", At: at("2026-11-24T09:10:00Z"), Summary: "Checkout page times out"}}}},
	}
}

func TestRenderGolden(t *testing.T) {
	for _, tt := range goldens() {
		t.Run(tt.name, func(t *testing.T) {
			got, err := postmortem.Markdown(tt.give)
			if err != nil {
				t.Fatal(err)
			}
			again, err := postmortem.Markdown(tt.give)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, again) {
				t.Errorf("two renderings of the same input differ")
			}
			golden := filepath.Join("testdata", tt.name+".md")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./shared/postmortem -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got\n%s\nwant (%s)\n%s", got, golden, want)
			}
		})
	}
}

func TestRenderFacts(t *testing.T) {
	full := resolved()
	cause := deployments()[1]
	missing := resolved()
	missing.RootCause, missing.Fix, missing.CauseDeploymentID = "", "", ""
	tests := []struct {
		name string
		give postmortem.Input
		want []string
		not  []string
	}{
		{name: "times and cause", give: postmortem.Input{Incident: full, Timeline: timeline(), Cause: &cause, Deployments: deployments()},
			want: []string{"| Time to detect | 1m 30s |", "| Time to acknowledge | 10m 0s |", "| Time to restore | 1h 30m 5s |",
				"Linked by a person (`cause_deployment_id`): `deploy-230` version v2.3.0"},
			not: []string{"To be completed", "Suspected:"}},
		{name: "missing root cause and a suspect", give: postmortem.Input{Incident: missing, Timeline: timeline(), Deployments: deployments()},
			want: []string{"## Root cause\n\n_To be completed._", "## Fix\n\n_To be completed._",
				"- Suspected: `deploy-230` version v2.3.0", "within 4h before"}},
		{name: "reporters' e-mail stays out", give: postmortem.Input{Incident: full, Reports: []incident.Report{
			{ID: "r1", At: at("2026-11-24T09:12:00Z"), ReporterName: "Ana", ReporterEmail: "ana@example.com", Summary: "down"}}},
			want: []string{"Ana: down"}, not: []string{"ana@example.com"}},
		{name: "suspect window setting", give: postmortem.Input{Incident: missing, Deployments: deployments(), SuspectWindow: 5 * time.Minute},
			want: []string{"no successful deployment of checkout finished within 5m before"}, not: []string{"Suspected:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := postmortem.Markdown(tt.give)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !bytes.Contains(got, []byte(w)) {
					t.Errorf("got\n%s\nwant it to contain %q", got, w)
				}
			}
			for _, n := range tt.not {
				if bytes.Contains(got, []byte(n)) {
					t.Errorf("got\n%s\nwant no %q", got, n)
				}
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		give time.Duration
		want string
	}{
		{0, "0s"}, {45 * time.Second, "45s"}, {90 * time.Second, "1m 30s"},
		{time.Hour + 5*time.Minute + 3*time.Second, "1h 5m 3s"}, {50 * time.Hour, "2d 2h 0m 0s"},
		{-2 * time.Second, "-2s"}, {1499 * time.Millisecond, "1s"},
	}
	for _, tt := range tests {
		if got := postmortem.FormatDuration(tt.give); got != tt.want {
			t.Errorf("FormatDuration(%v): got %q, want %q", tt.give, got, tt.want)
		}
	}
}

// TestExecutorMatchesTextTemplate: the template executed by the package's
// executor (render.go) and by text/template give the same bytes.
func TestExecutorMatchesTextTemplate(t *testing.T) {
	funcs := template.FuncMap{}
	for name, f := range postmortem.Funcs() {
		funcs[name] = f
	}
	tmpl := template.Must(template.New("postmortem").Funcs(funcs).Parse(postmortem.Template()))
	for _, tt := range goldens() {
		t.Run(tt.name, func(t *testing.T) {
			got, err := postmortem.Markdown(tt.give)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := tmpl.Execute(&want, postmortem.Build(tt.give)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("got\n%s\nwant (text/template)\n%s", got, want.Bytes())
			}
		})
	}
}

// FuzzMarkdown: whatever people write into an incident, the document renders,
// twice the same, and its title stays one heading line.
func FuzzMarkdown(f *testing.F) {
	f.Add("checkout | down", "root\ncause `x`", "a|b", "")
	f.Add("```", "# not a heading", "- [ ] x\n", "\x00\u202e")
	f.Fuzz(func(t *testing.T, title, rootCause, item, note string) {
		inc := resolved()
		inc.Title, inc.RootCause, inc.ActionItems = title, rootCause, []string{item}
		in := postmortem.Input{Incident: inc, Timeline: []incident.Entry{{ID: "e1", At: at("2026-11-24T09:11:30Z"), Kind: incident.EntryNote, Text: note}}}
		got, err := postmortem.Markdown(in)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := postmortem.Markdown(in)
		if !bytes.Equal(got, again) {
			t.Fatal("two renderings differ")
		}
		first, _, _ := bytes.Cut(got, []byte("\n"))
		if !bytes.HasPrefix(first, []byte("# Post-mortem: ")) || bytes.Contains([]byte(title), []byte("\n")) && bytes.HasSuffix(first, []byte(title)) {
			t.Errorf("got a first line %q, want the one title heading", first)
		}
	})
}

// The first signal named is the opening entry's, even when a duplicate
// signal of the same instant sorts before it in the timeline.
func TestFirstSignalIsTheOpening(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	inc := resolved()
	tl := []incident.Entry{
		{At: at, Kind: incident.EntrySignal, Text: "checkout-cpu in ALARM (duplicate)"},
		{At: at, Kind: incident.EntryOpened, Text: "checkout-cpu in ALARM"},
		{At: at.Add(time.Minute), Kind: incident.EntryOpened, Text: "a later opening (reopened)"},
	}
	d := postmortem.Build(postmortem.Input{Incident: inc, Timeline: tl})
	if d.FirstSignal != "checkout-cpu in ALARM" {
		t.Errorf("got first signal %q, want the opening entry's %q", d.FirstSignal, "checkout-cpu in ALARM")
	}
	d = postmortem.Build(postmortem.Input{Incident: inc, Timeline: tl[:1]})
	if d.FirstSignal != "checkout-cpu in ALARM (duplicate)" {
		t.Errorf("without an opening entry: got %q, want the first entry's", d.FirstSignal)
	}
}
