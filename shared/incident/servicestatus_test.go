package incident_test

import (
	"testing"

	"github.com/incidentd/incidentd/shared/incident"
)

func TestStateOf(t *testing.T) {
	tests := []struct {
		name string
		give []incident.Severity
		want incident.ServiceState
	}{
		{"no open incident", nil, incident.Operational},
		{"a minor one", []incident.Severity{incident.SEV4}, incident.Operational},
		{"SEV3", []incident.Severity{incident.SEV3}, incident.Degraded},
		{"SEV2", []incident.Severity{incident.SEV4, incident.SEV2}, incident.PartialOutage},
		{"SEV1 wins", []incident.Severity{incident.SEV3, incident.SEV1, incident.SEV2}, incident.MajorOutage},
		{"unknown severity", []incident.Severity{"SEV9"}, incident.Operational},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := incident.StateOf(tt.give); got != tt.want {
				t.Errorf("StateOf(%v): got %s, want %s", tt.give, got, tt.want)
			}
		})
	}
}
