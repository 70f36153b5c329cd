// Package asl extracts a state machine's Amazon States Language definition
// from a synthesized CloudFormation template, for the tools that run or check
// ASL outside AWS (asl-validator, aws-local-stepfunctions).
//
// CDK writes DefinitionString as an Fn::Join over literal text and references
// (Fn::GetAtt of the Lambda functions, Ref of pseudo parameters). Resolve
// replaces each reference with a fixed placeholder: a function becomes
// FunctionARN(its logical id), so a local runner can tell the tasks apart.
package asl

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Placeholders for the pseudo parameters.
const (
	Partition = "aws"
	Region    = "us-east-1"
	Account   = "123456789012"
)

// FunctionARN is the placeholder ARN of the Lambda function with logical id id.
func FunctionARN(logicalID string) string {
	return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", Partition, Region, Account, logicalID)
}

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

// Resolve returns the definition of the AWS::StepFunctions::StateMachine with
// logical id logicalID in template (CloudFormation JSON), its references
// replaced by placeholders. The result is checked to be a JSON object.
func Resolve(template []byte, logicalID string) ([]byte, error) {
	var tpl struct {
		Resources map[string]resource `json:"Resources"`
	}
	if err := json.Unmarshal(template, &tpl); err != nil {
		return nil, fmt.Errorf("decode template: %w", err)
	}
	r, ok := tpl.Resources[logicalID]
	if !ok {
		return nil, fmt.Errorf("resource %s: not in the template", logicalID)
	}
	if r.Type != "AWS::StepFunctions::StateMachine" {
		return nil, fmt.Errorf("resource %s: type %s, want AWS::StepFunctions::StateMachine", logicalID, r.Type)
	}
	def, ok := r.Properties["DefinitionString"]
	if !ok {
		return nil, fmt.Errorf("state machine %s: no DefinitionString", logicalID)
	}
	s, err := render(def, tpl.Resources)
	if err != nil {
		return nil, fmt.Errorf("state machine %s: %w", logicalID, err)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(s), &obj); err != nil {
		return nil, fmt.Errorf("state machine %s: definition is not a JSON object: %w", logicalID, err)
	}
	return []byte(s), nil
}

// render turns a string-valued template expression into its placeholder text.
func render(v any, resources map[string]resource) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case map[string]any:
		if len(v) != 1 {
			return "", fmt.Errorf("expression %v: want one intrinsic function", v)
		}
		for fn, arg := range v {
			switch fn {
			case "Fn::Join":
				return join(arg, resources)
			case "Ref":
				name, _ := arg.(string)
				return ref(name, resources)
			case "Fn::GetAtt":
				return getAtt(arg, resources)
			default:
				return "", fmt.Errorf("intrinsic %s: not supported", fn)
			}
		}
	}
	return "", fmt.Errorf("expression %v: not a string or intrinsic function", v)
}

func join(arg any, resources map[string]resource) (string, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != 2 {
		return "", fmt.Errorf("Fn::Join %v: want [separator, [parts]]", arg)
	}
	sep, ok1 := a[0].(string)
	parts, ok2 := a[1].([]any)
	if !ok1 || !ok2 {
		return "", fmt.Errorf("Fn::Join %v: want [separator, [parts]]", arg)
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		s, err := render(p, resources)
		if err != nil {
			return "", err
		}
		out = append(out, s)
	}
	return strings.Join(out, sep), nil
}

func ref(name string, resources map[string]resource) (string, error) {
	switch name {
	case "AWS::Partition":
		return Partition, nil
	case "AWS::Region":
		return Region, nil
	case "AWS::AccountId":
		return Account, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	}
	r, ok := resources[name]
	if !ok {
		return "", fmt.Errorf("Ref %q: no such resource or pseudo parameter", name)
	}
	if r.Type == "AWS::Lambda::Function" {
		return name, nil // a function's Ref is its name
	}
	return placeholderARN(name, r.Type), nil
}

func getAtt(arg any, resources map[string]resource) (string, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != 2 {
		return "", fmt.Errorf("Fn::GetAtt %v: want [logical id, attribute]", arg)
	}
	id, _ := a[0].(string)
	attr, _ := a[1].(string)
	r, ok := resources[id]
	if !ok {
		return "", fmt.Errorf("Fn::GetAtt %v: no such resource", arg)
	}
	if attr != "Arn" {
		return "", fmt.Errorf("Fn::GetAtt %s.%s: only Arn is supported", id, attr)
	}
	if r.Type == "AWS::Lambda::Function" {
		return FunctionARN(id), nil
	}
	return placeholderARN(id, r.Type), nil
}

// placeholderARN names a resource other than a function: AWS::SNS::Topic
// becomes arn:aws:sns:us-east-1:123456789012:<id>.
func placeholderARN(id, typ string) string {
	service := "unknown"
	if parts := strings.Split(typ, "::"); len(parts) == 3 {
		service = strings.ToLower(parts[1])
	}
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", Partition, service, Region, Account, id)
}
