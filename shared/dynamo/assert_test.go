package dynamo_test

import (
	"github.com/incidentd/incidentd/shared/dynamo"
	"github.com/incidentd/incidentd/shared/escalation"
	"github.com/incidentd/incidentd/shared/lifecycle"
)

// The use cases' interfaces the store implements. They are checked here, not
// in the package: an adapter does not import a use case (see shared/layers).
var (
	_ escalation.SlackPages = (*dynamo.Store)(nil)
	_ lifecycle.SlackPages  = (*dynamo.Store)(nil)
	_ lifecycle.Decoder     = dynamo.DecodeStreamRecord
)
