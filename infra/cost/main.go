// Command cost prints the platform's monthly cost model: a fixed part read from
// the synthesized CloudFormation template, and a variable part per unit of load
// (an alarm notification, an incident, a deployment, a log batch) computed
// from a file of measured operation counts, at dated us-east-1 list prices
// (prices.go), with the total at the file's load. `make bench` runs it:
//
//	go run ./infra/cost [-template cdk.out/Incidentd.template.json] [-counts infra/cost/counts.json]
//	go run ./infra/cost -measure   # DynamoDB request units per alarm signal, on DynamoDB Local
//
// The counts file is JSON, the counts of one unit of load each, so that new
// measurements change the model without a change of code:
//
//	{
//	  "measured": "2026-12-03",            // when (required)
//	  "source": "how they were measured",
//	  "load": {"alarm_notification": 100000, "incident": 1000, ...},  // units a month
//	  "scheduled_run_ms": 100,             // duration of a scheduled function's run (default 100)
//	  "units": {
//	    "<unit>": {
//	      "note": "measured how, or: a model",
//	      "ops": {
//	        "lambda": [{"function": "alarms", "invocations": 1, "ms": 12}],
//	        "dynamodb_write_units": 20,      // on-demand request units, indexes and
//	        "dynamodb_read_units": 4,        // transactions' doubling included
//	        "sns_publishes": 1,              // 64 KB publish requests (CloudWatch's too)
//	        "sns_email_deliveries": 0,
//	        "kms_requests": 1,               // to the topics' key
//	        "sfn_transitions": 7,            // Step Functions standard
//	        "api_requests": 0,               // API Gateway HTTP API
//	        "log_bytes": 600,                // CloudWatch Logs ingestion
//	        "eventbridge_custom_events": 0,  // AWS services' own events are free
//	        "secrets_requests": 0
//	      }
//	    }
//	  }
//	}
//
// Every unit of "load" must have its entry in "units" (a unit without load is
// priced per unit only), and every function named must exist in the template:
// its memory size comes from there. Free tiers are left out.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
)

// Target is the monthly total the issue asks for at its load.
const Target = 5.00

func main() {
	template := flag.String("template", "cdk.out/Incidentd.template.json", "synthesized template (make synth)")
	counts := flag.String("counts", "infra/cost/counts.json", "measured operation counts (JSON; see the package doc)")
	measure := flag.Bool("measure", false, "measure DynamoDB request units per alarm signal on DynamoDB Local, print them and exit")
	n := flag.Int("n", 20, "signals of each kind -measure sends")
	flag.Parse()
	if *measure {
		if err := Measure(context.Background(), os.Stdout, *n); err != nil {
			log.Fatal(err)
		}
		return
	}
	t, err := ReadTemplate(*template)
	if err != nil {
		log.Fatal(err)
	}
	c, err := LoadCounts(*counts, t.MemoryMB)
	if err != nil {
		log.Fatal(err)
	}
	Print(os.Stdout, Model(t, c, USEast1), c, USEast1, *template, *counts)
}

// Print writes the table.
func Print(w io.Writer, r Result, c Counts, p Prices, template, counts string) {
	fmt.Fprintf(w, "Monthly cost model (us-east-1 list prices of %s, no free tier; counts: %s, measured %s)\n", p.Date, counts, c.Measured)
	fmt.Fprintf(w, "\nfixed, from %s\n", template)
	for _, l := range r.Fixed {
		fmt.Fprintf(w, "  %-34s %9s   %s\n", l.What, dollars(l.Monthly), l.Detail)
	}
	fmt.Fprintf(w, "  %-34s %9s\n", "fixed total", dollars(r.FixedTotal()))
	fmt.Fprintf(w, "\nvariable, per unit of load              each    load/month      month\n")
	for _, u := range r.Units {
		fmt.Fprintf(w, "  %-22s %16s  %12s  %9s\n", u.Name, unitDollars(u.Each), count(u.Load), dollars(u.Monthly()))
	}
	fmt.Fprintf(w, "  %-22s %16s  %12s  %9s\n", "variable total", "", "", dollars(r.VariableTotal()))
	verdict := "within"
	if r.Total() > Target {
		verdict = "OVER"
	}
	fmt.Fprintf(w, "\ntotal at this load: %s a month (fixed %s + variable %s): %s the target of %s\n",
		dollars(r.Total()), dollars(r.FixedTotal()), dollars(r.VariableTotal()), verdict, dollars(Target))
	platform := r.Total() - r.Services()
	verdict = "within"
	if platform > Target {
		verdict = "OVER"
	}
	fmt.Fprintf(w, "the platform alone (without the monitored services' checks, %s): %s a month: %s the target\n",
		dollars(r.Services()), dollars(platform), verdict)
	// The DORA dashboard: what leaving it out (the default) saves, or what
	// turning it on adds.
	if d := r.Dashboards(); d > 0 {
		bare := platform - d
		fmt.Fprintf(w, "the platform without the DORA dashboard (%s; the default, without -c doraDashboard=true; free among an account's first three anyway): %s a month: %s the target\n",
			dollars(d), dollars(bare), within(bare))
	} else {
		with := platform + p.DashboardMonth
		fmt.Fprintf(w, "the DORA dashboard (-c doraDashboard=true) adds %s a month beyond an account's first three dashboards: the platform with it %s a month: %s the target\n",
			dollars(p.DashboardMonth), dollars(with), within(with))
	}
	fmt.Fprintf(w, "\nper unit, by service (each line: count per unit, cost per unit)\n")
	for _, u := range r.Units {
		fmt.Fprintf(w, "  %s\n", u.Name)
		for _, l := range wrap(u.Note, 96) {
			fmt.Fprintf(w, "    | %s\n", l)
		}
		for _, l := range u.Lines {
			if l.Monthly == 0 {
				continue
			}
			fmt.Fprintf(w, "    %-32s %14s  %10s\n", l.What, l.Detail, unitDollars(l.Monthly))
		}
	}
}

// within is "within" for a monthly total at or under Target, else "OVER".
func within(v float64) string {
	if v > Target {
		return "OVER"
	}
	return "within"
}

func dollars(v float64) string { return fmt.Sprintf("$%.2f", v) }

func unitDollars(v float64) string { return fmt.Sprintf("$%.8f", v) }

func count(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// wrap breaks text into lines of at most width bytes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
