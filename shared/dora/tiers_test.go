package dora_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dora"
	"github.com/incidentd/incidentd/shared/errkind"
)

const (
	hour      = 3600.0
	day       = 24 * hour
	week      = 7 * day
	month     = 30 * day
	sixMonths = 180 * day
)

// edge is a band edge of one metric: the tiers just below it, at it and
// just above it.
type edge struct {
	metric           string
	at               float64
	below, on, above dora.Tier
}

// TestTierEdges checks both tables just below, at and just above every band
// edge (doc.go gives the printed bands and why each edge falls where it
// does). Rates are deployments per day, durations seconds.
func TestTierEdges(t *testing.T) {
	E, H, M, L := dora.Elite, dora.High, dora.Medium, dora.Low
	tables := map[string][]edge{
		"2021": {
			// On demand; the gap down to once a week is elite's; once a week
			// is high's ("between once per week and once per month"), and so
			// is once a month; once in six months is medium's.
			{"deployment_frequency", 1.0 / 7, H, H, E},
			{"deployment_frequency", 1.0 / 30, M, H, H},
			{"deployment_frequency", 1.0 / 180, L, M, M},
			{"deployment_frequency", 1, E, E, E},
			// Elite is "less than one hour", high "between one day and one
			// week": the gap [1 h, 1 day) is elite's, one day high's.
			{"lead_time", hour, E, E, E},
			{"lead_time", day, E, H, H},
			// The gap (1 week, 1 month) is high's; one month is medium's
			// ("between one month and six months"), six months too.
			{"lead_time", week, H, H, H},
			{"lead_time", month, H, M, M},
			{"lead_time", sixMonths, M, M, L},
			// 0–15 % elite, 16–30 % high (and medium and low, as printed):
			// the gap (15 %, 16 %) is elite's, above 30 % is low.
			{"change_failure_rate", 0.15, E, E, E},
			{"change_failure_rate", 0.16, E, H, H},
			{"change_failure_rate", 0.30, H, H, L},
			// Less than one hour, less than one day, between one day and one
			// week (the gap up to six months is medium's), more than six months.
			{"recovery", hour, E, H, H},
			{"recovery", day, H, M, M},
			{"recovery", week, M, M, M},
			{"recovery", sixMonths, M, M, L},
		},
		"2023": {
			// On demand is more than once a day; once a day and once a week
			// are high's, once a month medium's, rarer low.
			{"deployment_frequency", 1, H, H, E},
			{"deployment_frequency", 1.0 / 7, M, H, H},
			{"deployment_frequency", 1.0 / 30, L, M, M},
			{"lead_time", day, E, H, H},
			{"lead_time", week, H, M, M},
			{"lead_time", month, M, L, L},
			{"change_failure_rate", 0.05, E, E, H},
			{"change_failure_rate", 0.10, H, H, M},
			{"change_failure_rate", 0.15, M, M, L},
			{"recovery", hour, E, H, H},
			{"recovery", day, H, M, M},
			{"recovery", week, M, L, L},
		},
	}
	for version, edges := range tables {
		tbl, err := dora.TableFor(version)
		if err != nil {
			t.Fatal(err)
		}
		scales := map[string]dora.Scale{"deployment_frequency": tbl.DeploymentFrequency,
			"lead_time": tbl.LeadTime, "change_failure_rate": tbl.ChangeFailureRate, "recovery": tbl.Recovery}
		for _, e := range edges {
			s := scales[e.metric]
			// One second either side of a duration; a relative 1e-9 of a
			// ratio or a rate.
			delta := e.at * 1e-9
			if s.Unit == "seconds" {
				delta = 1
			}
			for _, c := range []struct {
				v    float64
				want dora.Tier
			}{{e.at - delta, e.below}, {e.at, e.on}, {e.at + delta, e.above}} {
				if got := s.Classify(c.v); got != c.want {
					t.Errorf("%s %s at %v (edge %v): got %s, want %s", version, e.metric, c.v, e.at, got, c.want)
				}
			}
		}
	}
}

// TestTierEdgesThroughCompute: the edges reached through Compute's own
// arithmetic (counts divided by days, ratios of counts) land where the
// bands say: 4 successful deployments in 28 days is exactly once a week.
func TestTierEdgesThroughCompute(t *testing.T) {
	tests := []struct {
		benchmark string
		successes int
		failures  int
		days      int
		df, cfr   dora.Tier
	}{
		{"2021", 4, 0, 28, dora.High, dora.Elite},  // once a week: high; 0 %
		{"2021", 5, 0, 28, dora.Elite, dora.Elite}, // more than once a week
		{"2023", 28, 0, 28, dora.High, dora.Elite}, // once a day: high
		{"2023", 29, 0, 28, dora.Elite, dora.Elite},
		{"2021", 21, 4, 28, dora.Elite, dora.High}, // 4 of 25 = 16 %: high
		{"2023", 19, 1, 28, dora.High, dora.Elite}, // 1 of 20 = 5 %: elite; 19 in 28 days: high
		{"2023", 9, 1, 28, dora.High, dora.High},   // 1 of 10 = 10 %: high; 9 in 28 days
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s %d+%d in %d days", tt.benchmark, tt.successes, tt.failures, tt.days)
		t.Run(name, func(t *testing.T) {
			in := dora.Input{Scope: dora.Scope{Service: "payments"}, Benchmark: tt.benchmark,
				Window: dora.Window{Start: at("11-01 00:00")}}
			in.Window.End = in.Window.Start.AddDate(0, 0, tt.days)
			for i := range tt.successes + tt.failures {
				d := deploy(fmt.Sprint(i), dora.Succeeded, "11-01 00:00")
				d.FinishedAt = d.FinishedAt.Add(time.Duration(i) * time.Hour)
				if i < tt.failures {
					d.Status = dora.Failed
				}
				in.Deployments = append(in.Deployments, d)
			}
			r, err := dora.Compute(in)
			if err != nil {
				t.Fatal(err)
			}
			if r.DeploymentFrequency.Tier != tt.df || r.ChangeFailureRate.Tier != tt.cfr {
				t.Errorf("tiers: got %s, %s, want %s, %s", r.DeploymentFrequency.Tier, r.ChangeFailureRate.Tier, tt.df, tt.cfr)
			}
		})
	}
}

func TestBucketOf(t *testing.T) {
	tests := []struct {
		rate float64
		want dora.Bucket
	}{
		{2, dora.OnDemand},
		{1, dora.DailyToWeekly},
		{1.0 / 7, dora.DailyToWeekly},
		{1.0/7 - 1e-12, dora.WeeklyToMonthly},
		{1.0 / 30, dora.WeeklyToMonthly},
		{1.0/30 - 1e-12, dora.MonthlyToSixMonthly},
		{1.0 / 180, dora.MonthlyToSixMonthly},
		{1.0/180 - 1e-12, dora.Rarer},
	}
	for _, tt := range tests {
		if got := dora.BucketOf(tt.rate); got != tt.want {
			t.Errorf("BucketOf(%v): got %s, want %s", tt.rate, got, tt.want)
		}
	}
}

func TestTableFor(t *testing.T) {
	for _, v := range []string{"", "2021", "2023"} {
		tbl, err := dora.TableFor(v)
		if err != nil || (v != "" && tbl.Version != v) || (v == "" && tbl.Version != dora.DefaultBenchmark) {
			t.Errorf("TableFor(%q): got %v, %v", v, tbl, err)
		}
	}
	if _, err := dora.TableFor("2019"); !errors.Is(err, errkind.Invalid) {
		t.Errorf("TableFor(2019): got %v, want an errkind.Invalid", err)
	}
}

// bandsMarkdown is what the README prints under "DORA tiers": keep the two
// equal (a README test may compare them).
const bandsMarkdown = `| 2021 (Accelerate State of DevOps 2021) | elite | high | medium | low |
| --- | --- | --- | --- | --- |
| deployment frequency (successful deployments, mean per day) | > 1 a week | ≤ 1 a week, ≥ 1 a month | < 1 a month, ≥ 1 in 6 months | < 1 in 6 months |
| lead time for changes (median) | < 1 day | ≥ 1 day, < 1 month | ≥ 1 month, ≤ 6 months | > 6 months |
| change failure rate | < 16 % | ≥ 16 %, ≤ 30 % | — | > 30 % |
| time to restore, failed deployment recovery time (median) | < 1 hour | ≥ 1 hour, < 1 day | ≥ 1 day, ≤ 6 months | > 6 months |

| 2023 (Accelerate State of DevOps 2023) | elite | high | medium | low |
| --- | --- | --- | --- | --- |
| deployment frequency (successful deployments, mean per day) | > 1 a day | ≤ 1 a day, ≥ 1 a week | < 1 a week, ≥ 1 a month | < 1 a month |
| lead time for changes (median) | < 1 day | ≥ 1 day, < 1 week | ≥ 1 week, < 1 month | ≥ 1 month |
| change failure rate | ≤ 5 % | > 5 %, ≤ 10 % | > 10 %, ≤ 15 % | > 15 % |
| time to restore, failed deployment recovery time (median) | < 1 hour | ≥ 1 hour, < 1 day | ≥ 1 day, < 1 week | ≥ 1 week |
`

func TestMarkdown(t *testing.T) {
	if got := dora.Markdown(); got != bandsMarkdown {
		t.Errorf("Markdown: got\n%s\nwant\n%s", got, bandsMarkdown)
	}
}

// The README prints the gap-free bands as Markdown renders them.
func TestREADMEPrintsTheTierBands(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), dora.Markdown()) {
		t.Errorf("README.md does not hold dora.Markdown()'s tables; paste them (section \"DORA metrics\"):\n%s", dora.Markdown())
	}
}
