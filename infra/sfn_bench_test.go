package main

import (
	"testing"
	"time"
)

// BenchmarkEscalationTransitions counts the Step Functions state transitions
// (what a standard workflow bills: one per state entered, retries included)
// that one escalated incident costs, by executing the synthesized state
// machine under aws-local-stepfunctions as sfn_test.go does: the real
// escalate and warroom handlers against DynamoDB Local, the policy of
// sfnPolicy (three levels, repeat 1, a fallback), waits of a millisecond.
// `make bench` runs it:
//
//	go test -run '^$' -bench EscalationTransitions -benchtime 3x ./infra
//
// transitions/incident is exact (the same for every execution); ms/incident
// is the wall time of one execution here, a Node process of its own included.
func BenchmarkEscalationTransitions(b *testing.B) {
	def := definition(b)
	for _, bc := range []struct {
		name  string
		ackAt int // level whose page is acknowledged; 0: nobody acknowledges
		pages int // pages each execution must send
	}{
		{name: "acknowledged-at-first-level", ackAt: 1, pages: 1},
		{name: "full-exhaustion", ackAt: 0, pages: 7}, // 3 levels × 2 passes, then the fallback
	} { // names end in a letter: go test appends -GOMAXPROCS to them
		b.Run(bc.name, func(b *testing.B) {
			var transitions, pages int
			var took time.Duration
			for b.Loop() {
				r := runDefinition(b, def, bc.ackAt, false)
				if got := len(r.pager.sent()); got != bc.pages {
					b.Fatalf("pages: got %d, want %d", got, bc.pages)
				}
				transitions += r.ex.Transitions()
				pages += len(r.pager.sent())
				took += r.took
			}
			b.ReportMetric(0, "ns/op") // setup (a table, an incident) is not what is measured
			b.ReportMetric(float64(transitions)/float64(b.N), "transitions/incident")
			b.ReportMetric(float64(pages)/float64(b.N), "pages/incident")
			b.ReportMetric(float64(took)/float64(b.N)/float64(time.Millisecond), "ms/incident")
		})
	}
}
