package sfn_test

import (
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/sfn"
)

// The use case's interface the adapter implements. It is checked here, not in
// the package: an adapter does not import a use case (see shared/layers).
var _ escalation.Executions = (*sfn.Executions)(nil)
