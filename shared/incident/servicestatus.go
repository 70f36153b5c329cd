package incident

// ServiceState is what the status page says of a service (README, "Status
// page"): from its open incidents' severities, the worst one deciding.
type ServiceState string

// The service states, from best to worst.
const (
	Operational   ServiceState = "operational"
	Degraded      ServiceState = "degraded"
	PartialOutage ServiceState = "partial_outage"
	MajorOutage   ServiceState = "major_outage"
)

// Impact is the state an open incident of sev puts its service in: SEV1 a
// major outage, SEV2 a partial outage, SEV3 degraded. A SEV4 (minor: one
// unconfirmed report, a cosmetic fault) is listed with its service but
// leaves it operational, as it pages nobody.
func Impact(sev Severity) ServiceState {
	switch sev {
	case SEV1:
		return MajorOutage
	case SEV2:
		return PartialOutage
	case SEV3:
		return Degraded
	}
	return Operational
}

// Worse reports whether a is worse than b.
func (a ServiceState) Worse(b ServiceState) bool { return a.rank() > b.rank() }

func (a ServiceState) rank() int {
	switch a {
	case Degraded:
		return 1
	case PartialOutage:
		return 2
	case MajorOutage:
		return 3
	}
	return 0
}

// StateOf is the state of a service whose open incidents have the severities
// open: the worst of their impacts, Operational for none.
func StateOf(open []Severity) ServiceState {
	st := Operational
	for _, sev := range open {
		if s := Impact(sev); s.Worse(st) {
			st = s
		}
	}
	return st
}
