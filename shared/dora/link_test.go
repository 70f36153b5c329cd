package dora_test

import (
	"testing"
	"time"

	"github.com/incidentd/incidentd/shared/dora"
)

func TestLinkIncident(t *testing.T) {
	// The incident starts 11-20 10:00; the window is 4 h: 06:00 to 10:00.
	inc := incident("i", "SEV2", "", "11-20 10:00", "", "")
	staging := deploy("stg", dora.Succeeded, "11-20 09:00")
	staging.Environment = "staging"
	other := deploy("oth", dora.Succeeded, "11-20 09:00")
	other.Service = "search"
	explicit := inc
	explicit.CauseDeploymentID = "d-by-hand"
	tests := []struct {
		name   string
		inc    dora.Incident
		give   []dora.Deployment
		want   dora.Link
		wantOK bool
	}{
		{"the latest of several in the window", inc, []dora.Deployment{
			deploy("a", dora.Succeeded, "11-20 07:00"), deploy("b", dora.Succeeded, "11-20 08:30"),
			deploy("c", dora.Succeeded, "11-20 08:00")},
			dora.Link{DeploymentID: "b", Suspected: true}, true},
		{"explicit wins over a candidate", explicit, []dora.Deployment{deploy("a", dora.Succeeded, "11-20 09:00")},
			dora.Link{DeploymentID: "d-by-hand"}, true},
		{"outside the window: none", inc, []dora.Deployment{deploy("a", dora.Succeeded, "11-20 05:59")},
			dora.Link{}, false},
		{"at the window's far edge", inc, []dora.Deployment{deploy("a", dora.Succeeded, "11-20 06:00")},
			dora.Link{DeploymentID: "a", Suspected: true}, true},
		{"finished as the incident started", inc, []dora.Deployment{deploy("a", dora.Succeeded, "11-20 10:00")},
			dora.Link{DeploymentID: "a", Suspected: true}, true},
		{"finished after the incident started", inc, []dora.Deployment{deploy("a", dora.Succeeded, "11-20 10:01")},
			dora.Link{}, false},
		{"a failed deployment is not a suspect", inc, []dora.Deployment{deploy("a", dora.Failed, "11-20 09:00"),
			deploy("b", dora.RolledBack, "11-20 09:30")},
			dora.Link{}, false},
		{"the later success behind a later failure", inc, []dora.Deployment{deploy("a", dora.Succeeded, "11-20 08:00"),
			deploy("b", dora.Failed, "11-20 09:30")},
			dora.Link{DeploymentID: "a", Suspected: true}, true},
		{"other environments and services are skipped", inc, []dora.Deployment{staging, other},
			dora.Link{}, false},
		{"same instant: the greater id", inc, []dora.Deployment{deploy("b", dora.Succeeded, "11-20 09:00"),
			deploy("a", dora.Succeeded, "11-20 09:00")},
			dora.Link{DeploymentID: "b", Suspected: true}, true},
		{"no deployments", inc, nil, dora.Link{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := dora.LinkIncident(tt.inc, tt.give, 4*time.Hour)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("LinkIncident: got %+v %v, want %+v %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestLinkIncidentDefaultWindow: a zero window is DefaultSuspectWindow (4 h).
func TestLinkIncidentDefaultWindow(t *testing.T) {
	inc := incident("i", "SEV2", "", "11-20 10:00", "", "")
	for _, tt := range []struct {
		finished string
		want     bool
	}{{"11-20 06:00", true}, {"11-20 05:59", false}} {
		if _, ok := dora.LinkIncident(inc, []dora.Deployment{deploy("a", dora.Succeeded, tt.finished)}, 0); ok != tt.want {
			t.Errorf("deployment at %s: got linked %v, want %v", tt.finished, ok, tt.want)
		}
	}
}
