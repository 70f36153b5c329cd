package escalation_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/incident"
	"github.com/incidentd/incidentd/shared/oncall"
)

// statusExecutions is executions that also says which are running
// (escalation.ExecutionStatus), as shared/sfn does.
type statusExecutions struct {
	*executions
	running map[string]bool
	err     error // returned by every Running when set
	asked   []string
}

func (x *statusExecutions) Running(_ context.Context, name string) (bool, error) {
	x.asked = append(x.asked, name)
	if x.err != nil {
		return false, x.err
	}
	return x.running[name], nil
}

func TestStarterReopenWhileAnEarlierEscalationRuns(t *testing.T) {
	tests := []struct {
		name      string
		running   []int // reopen counts whose executions run
		statusErr error
		reopens   int
		want      bool
	}{
		{name: "the first still runs", running: []int{0}, reopens: 1, want: false},
		{name: "an earlier one still runs", running: []int{1}, reopens: 3, want: false},
		{name: "all ended", reopens: 2, want: true},
		{name: "status unknown: start rather than drop a page", running: []int{0}, statusErr: errors.New("AccessDenied"), reopens: 1, want: true},
		{name: "not reopened: no question asked", running: []int{0}, reopens: 0, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStarterEnv(t)
			inc := e.incident(t, "checkout", incident.SEV2)
			x := &statusExecutions{executions: newExecutions(), running: map[string]bool{}, err: tt.statusErr}
			for _, n := range tt.running {
				x.running[escalation.ExecutionName(withReopens(inc, n))] = true
			}
			st := escalation.NewStarter(escalation.StarterConfig{
				Configs: e.store, Executions: x, Fallback: &oncall.Target{User: "ops"},
				Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
			})
			reopened := withReopens(inc, tt.reopens)
			got, err := st.Start(context.Background(), reopened)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got started %v, want %v (asked about %v)", got, tt.want, x.asked)
			}
			wantNames := []string{}
			if tt.want {
				wantNames = []string{escalation.ExecutionName(reopened)}
			}
			if names := x.names(); !slices.Equal(names, wantNames) {
				t.Errorf("got executions %v, want %v", names, wantNames)
			}
		})
	}
}

func withReopens(inc incident.Incident, n int) incident.Incident {
	inc.ReopenCount = n
	return inc
}
