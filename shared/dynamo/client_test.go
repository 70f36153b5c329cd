package dynamo_test

import (
	"reflect"
	"testing"

	"github.com/incidentd/incidentd/shared/dynamo"
)

// grantedActions are the item actions the functions' roles allow on the table
// (infra/storage.ReadActions and WriteActions; infra's tests check the synthesized roles).
// TransactWriteItems is authorized per item action inside the transaction.
var grantedActions = map[string]bool{
	"BatchGetItem": true, "ConditionCheckItem": true, "GetItem": true,
	"PutItem": true, "Query": true, "UpdateItem": true,
}

// An operation the store's Client may call but the roles do not allow would be
// AccessDenied in AWS (a 500 on the API, a failed event batch), while passing
// every test against DynamoDB Local, which checks no IAM.
func TestClientNeedsOnlyGrantedActions(t *testing.T) {
	needs := map[string][]string{"TransactWriteItems": {"PutItem", "UpdateItem", "ConditionCheckItem"}}
	client := reflect.TypeFor[dynamo.Client]()
	for i := range client.NumMethod() {
		name := client.Method(i).Name
		actions, ok := needs[name]
		if !ok {
			actions = []string{name}
		}
		for _, a := range actions {
			if !grantedActions[a] {
				t.Errorf("dynamo.Client has %s, which needs dynamodb:%s: got an action the roles do not grant, want only %v", name, a, grantedActions)
			}
		}
	}
}
