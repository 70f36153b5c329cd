package dora

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/incidentd/incidentd/shared/errkind"
)

// Tier is a DORA performance tier; the empty Tier is "no tier" (no data),
// which JSON writes as null.
type Tier string

// The tiers, best first.
const (
	Elite  Tier = "elite"
	High   Tier = "high"
	Medium Tier = "medium"
	Low    Tier = "low"
)

// MarshalJSON writes the empty Tier as null.
func (t Tier) MarshalJSON() ([]byte, error) { return nullable(string(t)) }

// UnmarshalJSON reads null as the empty Tier.
func (t *Tier) UnmarshalJSON(b []byte) error { return fromNullable(b, (*string)(t)) }

// nullable writes s as a JSON string, or null when it is empty.
func nullable(s string) ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(s)
}

// fromNullable reads a JSON string into s, null as "".
func fromNullable(b []byte, s *string) error {
	if string(b) == "null" {
		*s = ""
		return nil
	}
	return json.Unmarshal(b, s)
}

// Units of the band limits: durations in seconds, a month is 30 days and six
// months 180; rates in successful deployments per day.
const (
	hour      = 3600.0
	day       = 24 * hour
	week      = 7 * day
	month     = 30 * day
	sixMonths = 180 * day

	perDay       = 1.0
	perWeek      = 1.0 / 7
	perMonth     = 1.0 / 30
	perSixMonths = 1.0 / 180
)

// Band is one tier's range of a metric. Bands come best first; a band holds
// the values between the previous band's Limit (excluded if that band
// included it) and its own Limit, included when Inclusive. For a metric
// where lower is better the Limit is the band's upper edge, for deployment
// frequency its lower edge; the last band reaches to +∞ (or to 0).
type Band struct {
	Tier      Tier
	Limit     float64
	Inclusive bool
}

// Scale is the gap-free bands of one metric in one table.
type Scale struct {
	// Metric names it as the report does; Unit is what its values count
	// ("seconds", "ratio", "per day").
	Metric, Unit   string
	HigherIsBetter bool
	Bands          []Band
}

// Classify returns the tier of value v: the first band, best first, that
// holds it.
func (s Scale) Classify(v float64) Tier {
	for _, b := range s.Bands {
		var in bool
		switch {
		case s.HigherIsBetter && b.Inclusive:
			in = v >= b.Limit
		case s.HigherIsBetter:
			in = v > b.Limit
		case b.Inclusive:
			in = v <= b.Limit
		default:
			in = v < b.Limit
		}
		if in {
			return b.Tier
		}
	}
	return s.Bands[len(s.Bands)-1].Tier
}

// Table is one versioned tier table: the bands of the four key metrics.
// Recovery holds for both time to restore and failed deployment recovery
// time.
type Table struct {
	Version, Source                                            string
	DeploymentFrequency, LeadTime, ChangeFailureRate, Recovery Scale
}

// DefaultBenchmark is the table used when none is asked for.
const DefaultBenchmark = "2021"

// Benchmarks are the versions of the tier tables, default first.
var Benchmarks = []string{"2021", "2023"}

// TableFor returns the tier table of version ("" is DefaultBenchmark), or an
// errkind.Invalid naming the versions there are.
func TableFor(version string) (*Table, error) {
	switch version {
	case "", "2021":
		return table2021(), nil
	case "2023":
		return table2023(), nil
	}
	return nil, errkind.Invalidf("benchmark %q is not one of %s", version, strings.Join(Benchmarks, ", "))
}

func lowerIsBetter(metric, unit string, bands ...Band) Scale {
	return Scale{Metric: metric, Unit: unit, Bands: append(bands, Band{Low, math.Inf(1), true})}
}

func higherIsBetter(bands ...Band) Scale {
	return Scale{Metric: "deployment_frequency", Unit: "per day", HigherIsBetter: true,
		Bands: append(bands, Band{Low, 0, true})}
}

// table2021 is the State of DevOps 2021 table, gaps closed towards the
// better tier (doc.go gives the printed table and each decision).
func table2021() *Table {
	return &Table{
		Version: "2021", Source: "Accelerate State of DevOps 2021",
		DeploymentFrequency: higherIsBetter(
			Band{Elite, perWeek, false},      // on demand; the gap down to weekly closed to elite
			Band{High, perMonth, true},       // between once per week and once per month
			Band{Medium, perSixMonths, true}, // between once per month and once every six months
		),
		LeadTime: lowerIsBetter("lead_time", "seconds",
			Band{Elite, day, false},       // less than one hour; the gap up to one day closed to elite
			Band{High, month, false},      // between one day and one week; the gap up to one month closed to high
			Band{Medium, sixMonths, true}, // between one month and six months
		),
		ChangeFailureRate: lowerIsBetter("change_failure_rate", "ratio",
			Band{Elite, 0.16, false}, // 0–15 %; the gap up to 16 % closed to elite
			Band{High, 0.30, true},   // 16–30 %
			Band{Medium, 0.30, true}, // 16–30 % again: high, the better tier, holds it
		),
		Recovery: lowerIsBetter("time_to_restore", "seconds",
			Band{Elite, hour, false},      // less than one hour
			Band{High, day, false},        // less than one day
			Band{Medium, sixMonths, true}, // between one day and one week; the gap up to six months closed to medium
		),
	}
}

// table2023 is the State of DevOps 2023 table as DESIGN §7 reads it, with
// deployment frequency by the DORA survey's answers.
func table2023() *Table {
	return &Table{
		Version: "2023", Source: "Accelerate State of DevOps 2023",
		DeploymentFrequency: higherIsBetter(
			Band{Elite, perDay, false},   // on demand: more than once a day
			Band{High, perWeek, true},    // between once per day and once per week
			Band{Medium, perMonth, true}, // between once per week and once per month
		),
		LeadTime: lowerIsBetter("lead_time", "seconds",
			Band{Elite, day, false}, Band{High, week, false}, Band{Medium, month, false}),
		ChangeFailureRate: lowerIsBetter("change_failure_rate", "ratio",
			Band{Elite, 0.05, true}, Band{High, 0.10, true}, Band{Medium, 0.15, true}),
		Recovery: lowerIsBetter("time_to_restore", "seconds",
			Band{Elite, hour, false}, Band{High, day, false}, Band{Medium, week, false}),
	}
}

// Bucket is the DORA survey's answer to "how often does your team deploy",
// read from the mean rate of successful deployments.
type Bucket string

// The buckets, most frequent first.
const (
	OnDemand            Bucket = "on_demand"              // more than once a day
	DailyToWeekly       Bucket = "daily_to_weekly"        // once a day to once a week, both included
	WeeklyToMonthly     Bucket = "weekly_to_monthly"      // less than once a week to once a month
	MonthlyToSixMonthly Bucket = "monthly_to_six_monthly" // less than once a month to once in six months
	Rarer               Bucket = "rarer"                  // less than once in six months
)

// MarshalJSON writes the empty Bucket as null.
func (b Bucket) MarshalJSON() ([]byte, error) { return nullable(string(b)) }

// UnmarshalJSON reads null as the empty Bucket.
func (b *Bucket) UnmarshalJSON(data []byte) error { return fromNullable(data, (*string)(b)) }

// BucketOf returns the bucket of a rate in successful deployments per day.
// An edge both neighbouring answers claim (once a day, once a week…) goes
// to the more frequent one.
func BucketOf(rate float64) Bucket {
	switch {
	case rate > perDay:
		return OnDemand
	case rate >= perWeek:
		return DailyToWeekly
	case rate >= perMonth:
		return WeeklyToMonthly
	case rate >= perSixMonths:
		return MonthlyToSixMonthly
	}
	return Rarer
}

// Markdown renders the table's gap-free bands as a Markdown table, the one
// the README prints.
func (t *Table) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s (%s) | elite | high | medium | low |\n", t.Version, t.Source)
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	rows := []struct {
		name string
		s    Scale
	}{
		{"deployment frequency (successful deployments, mean per day)", t.DeploymentFrequency},
		{"lead time for changes (median)", t.LeadTime},
		{"change failure rate", t.ChangeFailureRate},
		{"time to restore, failed deployment recovery time (median)", t.Recovery},
	}
	for _, r := range rows {
		b.WriteString("| " + r.name)
		for _, c := range r.s.cells() {
			b.WriteString(" | " + c)
		}
		b.WriteString(" |\n")
	}
	return b.String()
}

// cells describes each band of s in words, "—" for a band that holds nothing.
func (s Scale) cells() []string {
	format := formatSeconds
	switch s.Unit {
	case "ratio":
		format = formatPercent
	case "per day":
		format = formatRate
	}
	// Towards the better tiers: "<" (lower is better) or ">" (higher).
	better, worse := "<", ">"
	if s.HigherIsBetter {
		better, worse = ">", "<"
	}
	op := func(sign string, inclusive bool) string {
		if inclusive {
			return map[string]string{"<": "≤", ">": "≥"}[sign]
		}
		return sign
	}
	out := make([]string, len(s.Bands))
	for i, band := range s.Bands {
		last := i == len(s.Bands)-1
		if i == 0 {
			out[i] = op(better, band.Inclusive) + " " + format(band.Limit)
			continue
		}
		prev := s.Bands[i-1]
		from := op(worse, !prev.Inclusive) + " " + format(prev.Limit)
		switch {
		case last:
			out[i] = from
		case band.Limit == prev.Limit && !(band.Inclusive && !prev.Inclusive):
			out[i] = "—"
		default:
			out[i] = from + ", " + op(better, band.Inclusive) + " " + format(band.Limit)
		}
	}
	return out
}

// named is a value of a band limit and its words.
type named struct {
	v     float64
	words string
}

var (
	durationWords = []named{{hour, "1 hour"}, {day, "1 day"}, {week, "1 week"}, {month, "1 month"}, {sixMonths, "6 months"}}
	rateWords     = []named{{perDay, "1 a day"}, {perWeek, "1 a week"}, {perMonth, "1 a month"}, {perSixMonths, "1 in 6 months"}}
)

// inWords says v as words names it, or as a number and a unit.
func inWords(v float64, words []named, unit string) string {
	for _, n := range words {
		if n.v == v {
			return n.words
		}
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + " " + unit
}

func formatSeconds(v float64) string { return inWords(v, durationWords, "s") }

func formatRate(v float64) string { return inWords(v, rateWords, "a day") }

func formatPercent(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e4)/100, 'f', -1, 64) + " %"
}

// Markdown renders every table, in the order of Benchmarks, separated by a
// blank line: the README's gap-free bands.
func Markdown() string {
	parts := make([]string, len(Benchmarks))
	for i, v := range Benchmarks {
		t, _ := TableFor(v)
		parts[i] = t.Markdown()
	}
	return strings.Join(parts, "\n")
}
