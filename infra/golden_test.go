package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/incidentd/incidentd/infra/asl"
)

var update = flag.Bool("update", false, "rewrite the golden files from the synthesized stack")

// localDefinition is where the local runtime (infra/local) finds the
// escalation state machine: the synthesized definition, checked in.
const localDefinition = "local/escalation.asl.json"

// functionNamed returns the definition with each function's placeholder ARN
// (asl.FunctionARN of its logical id) turned into asl.FunctionARN of its
// folder under functions/, as the function's role names it ("incidentd
// function <name>"): the local runner invokes the function a Task names.
func functionNamed(t testing.TB, def []byte) []byte {
	t.Helper()
	out := string(def)
	for id, r := range synthesized.resources {
		if r["Type"] != "AWS::Lambda::Function" {
			continue
		}
		props, _ := r["Properties"].(map[string]any)
		role, _ := props["Role"].(map[string]any)
		att, _ := role["Fn::GetAtt"].([]any)
		if len(att) != 2 {
			t.Fatalf("function %s: role %v is not a Fn::GetAtt", id, props["Role"])
		}
		roleID, _ := att[0].(string)
		rp, _ := synthesized.resources[roleID]["Properties"].(map[string]any)
		desc, _ := rp["Description"].(string)
		name, ok := strings.CutPrefix(desc, "incidentd function ")
		if !ok {
			t.Fatalf("function %s: role description %q names no function", id, desc)
		}
		out = strings.ReplaceAll(out, asl.FunctionARN(id), asl.FunctionARN(name))
	}
	return []byte(out)
}

// TestLocalDefinitionIsSynthesized fails when the state machine `make local`
// runs (infra/local/escalation.asl.json) is not the one the stack deploys:
// run `go test ./infra -run TestLocalDefinitionIsSynthesized -update` after
// changing infra/escalation, and commit the file.
func TestLocalDefinitionIsSynthesized(t *testing.T) {
	var want bytes.Buffer
	if err := json.Indent(&want, functionNamed(t, definition(t)), "", "  "); err != nil {
		t.Fatal(err)
	}
	want.WriteByte('\n')
	if *update {
		if err := os.WriteFile(filepath.FromSlash(localDefinition), want.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(filepath.FromSlash(localDefinition))
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", localDefinition, err)
	}
	if err := json.Unmarshal(want.Bytes(), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s is not the synthesized escalation state machine; run go test ./infra -run TestLocalDefinitionIsSynthesized -update\ngot:\n%s\nwant:\n%s", localDefinition, got, want.Bytes())
	}
}
