package asl

import (
	"encoding/json"
	"strings"
	"testing"
)

const template = `{
  "Resources": {
    "Fn1": {"Type": "AWS::Lambda::Function", "Properties": {}},
    "Topic1": {"Type": "AWS::SNS::Topic", "Properties": {}},
    "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
      "DefinitionString": {"Fn::Join": ["", [
        "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Task\",\"Resource\":\"",
        {"Fn::GetAtt": ["Fn1", "Arn"]},
        "\",\"Parameters\":{\"topic\":\"", {"Ref": "Topic1"}, "\",\"name\":\"", {"Ref": "Fn1"},
        "\",\"where\":\"", {"Ref": "AWS::Region"}, "/", {"Ref": "AWS::AccountId"}, "/", {"Ref": "AWS::Partition"},
        "\"},\"End\":true}}}"
      ]]}
    }},
    "Plain": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionString": "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Succeed\"}}}"}},
    "Sub": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionString": {"Fn::Sub": "{}"}}},
    "Broken": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionString": {"Fn::Join": ["", ["{\"StartAt\":", {"Ref": "Nope"}]]}}},
    "NotJSON": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionString": "StartAt: S"}}
  }
}`

func TestResolve(t *testing.T) {
	b, err := Resolve([]byte(template), "Machine")
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	var def struct {
		States map[string]struct {
			Resource   string            `json:"Resource"`
			Parameters map[string]string `json:"Parameters"`
		} `json:"States"`
	}
	if err := json.Unmarshal(b, &def); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	a := def.States["A"]
	if got, want := a.Resource, "arn:aws:lambda:us-east-1:123456789012:function:Fn1"; got != want || got != FunctionARN("Fn1") {
		t.Errorf("Resource: got %q, want %q", got, want)
	}
	for key, want := range map[string]string{
		"topic": "arn:aws:sns:us-east-1:123456789012:Topic1",
		"name":  "Fn1",
		"where": "us-east-1/123456789012/aws",
	} {
		if got := a.Parameters[key]; got != want {
			t.Errorf("Parameters.%s: got %q, want %q", key, got, want)
		}
	}

	plain, err := Resolve([]byte(template), "Plain")
	if err != nil || !strings.Contains(string(plain), `"Succeed"`) {
		t.Errorf("Resolve of a plain string: got %s, %v, want the string itself", plain, err)
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name, template, id, want string
	}{
		{"not JSON", "{", "Machine", "decode template"},
		{"missing", template, "Gone", "not in the template"},
		{"not a state machine", template, "Topic1", "want AWS::StepFunctions::StateMachine"},
		{"unsupported intrinsic", template, "Sub", "Fn::Sub: not supported"},
		{"dangling ref", template, "Broken", `Ref "Nope"`},
		{"definition not JSON", template, "NotJSON", "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve([]byte(tt.template), tt.id)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Resolve: got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
