package sns_test

import (
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/lifecycle"
	"github.com/incidentd/incidentd/shared/sns"
)

// The use cases' interfaces the SNS adapters implement. They are checked
// here, not in the package: an adapter does not import a use case (see
// shared/layers).
var (
	_ escalation.Pager    = (*sns.Pager)(nil)
	_ lifecycle.Publisher = (*sns.Events)(nil)
)
