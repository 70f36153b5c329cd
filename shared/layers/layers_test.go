package layers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// layer is where a package sits; a higher layer may import a lower one.
type layer int

const (
	domain layer = iota + 1
	useCase
	adapter
	wiring
	edge
)

func (l layer) String() string {
	switch l {
	case domain:
		return "domain"
	case useCase:
		return "use case"
	case adapter:
		return "adapter"
	case wiring:
		return "wiring"
	case edge:
		return "edge"
	}
	return "no layer"
}

// table places every package of the module, by its path in the module. A
// pattern ending in "/..." is the folder and everything below it. Entries of
// packages not written yet (planned by other work) are fine; a package that
// exists and matches no entry fails the test. doc.go says the same in prose.
var table = []struct {
	pattern string
	layer   layer
}{
	// Domain: no AWS, no Slack, no store.
	{"shared/incident", domain},
	{"shared/incident/incidenttest", domain},
	{"shared/oncall", domain},
	{"shared/oncall/oncalltest", domain},
	{"shared/errkind", domain},
	{"shared/auth", domain},
	{"shared/dora", domain},
	{"shared/deploy", domain},
	{"shared/postmortem", domain},
	{"shared/text", domain},
	{"shared/acklink", domain},
	{"shared/clock", domain},
	{"shared/clock/clocktest", domain},
	{"shared/layers", domain}, // this package: no code, imports nothing

	// Use cases: services over interfaces they declare.
	{"shared/escalation", useCase},
	{"shared/lifecycle", useCase},
	{"shared/dorajob", useCase},
	{"shared/postmortemjob", useCase},

	// Adapters.
	{"shared/dynamo", adapter},
	{"shared/dynamo/dynamolocal", adapter},
	{"shared/dynamo/dynamotest", adapter},
	{"shared/sns", adapter},
	{"shared/s3", adapter},
	{"shared/s3/s3local", adapter},
	{"shared/cloudwatch", adapter},
	{"shared/slack", adapter},
	{"shared/sfn", adapter},
	{"shared/secrets", adapter},
	{"shared/secrets/secretstest", adapter},
	{"shared/deployevents", adapter},
	{"shared/github", adapter},
	{"shared/compat", adapter},
	{"shared/customresource", adapter},
	{"shared/httpapi", adapter},
	{"shared/httpapi/apigw", adapter},
	{"shared/alarms", adapter},
	{"shared/logscan", adapter},

	// Wiring.
	{"shared/wiring/...", wiring},
	{"shared/settings", wiring},

	// Edges.
	{"functions/...", edge},
	{"infra/...", edge},
}

// mayImport lists, for each layer, the layers its packages may import.
var mayImport = map[layer][]layer{
	domain:  {domain},
	useCase: {domain},
	adapter: {domain, adapter},
	wiring:  {domain, useCase, adapter, wiring},
	edge:    {domain, useCase, adapter, wiring, edge},
}

// exceptions are arrows allowed against mayImport, importer → imported, each
// with its reason. None today: lifecycle starts escalations through its own
// Starter interface, which escalation.Starter satisfies in the wiring.
var exceptions = map[[2]string]string{}

// classify returns the layer of the package at path rel in the module, and
// false when no entry of table places it. An exact entry wins over a
// pattern, a longer pattern over a shorter one.
func classify(rel string) (layer, bool) {
	best, bestLen := layer(0), -1
	for _, e := range table {
		if e.pattern == rel {
			return e.layer, true
		}
		dir, ok := strings.CutSuffix(e.pattern, "/...")
		if ok && (rel == dir || strings.HasPrefix(rel, dir+"/")) && len(dir) > bestLen {
			best, bestLen = e.layer, len(dir)
		}
	}
	return best, bestLen >= 0
}

// advice says why an arrow from a package of layer from to one of layer to is
// wrong, and where the type the importer needs should live instead.
func advice(from, to layer) string {
	switch {
	case to == edge:
		return "nothing in shared may import functions/ or infra/; move what it needs into shared, into the layer of what it is"
	case from == domain:
		return "domain packages import only domain packages; move the type it needs into a domain package (incident, oncall, errkind), or declare an interface in the domain package and let the higher layer implement it"
	case to == wiring:
		return fmt.Sprintf("%ss must not import the wiring; the wiring hands the package what it needs (a value, or an implementation of an interface the package declares)", from)
	case from == useCase && to == useCase:
		return "use cases do not import each other; declare the interface it needs in the importer (as lifecycle.Starter) and connect the two in shared/wiring, or add a justified entry to exceptions in shared/layers"
	case from == useCase && to == adapter:
		return "use cases must not import adapters; declare the interface the use case needs, in domain terms, in the use case, move the types both need into a domain package (incident, oncall, errkind), and let the adapter implement the interface (asserted in the adapter's external test or in shared/wiring)"
	case from == adapter && to == useCase:
		return "adapters must not import use cases; move the type it needs into a domain package (incident, oncall, errkind) or declare the interface in the use case and assert it in shared/wiring"
	}
	return fmt.Sprintf("%ss may import only %s", from, layerList(mayImport[from]))
}

func layerList(ls []layer) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = l.String() + "s"
	}
	return strings.Join(s, ", ")
}

// pkg is a package as go list reports it, by its path in the module.
type pkg struct {
	path    string
	imports []string // of the module, by path in the module
}

// check returns what breaks the rule in pkgs: packages in no layer, and
// arrows that point the wrong way.
func check(pkgs []pkg) []string {
	var problems []string
	for _, p := range pkgs {
		from, ok := classify(p.path)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s is in no layer: add it to the table in shared/layers (layers_test.go, and the prose of doc.go)", p.path))
			continue
		}
		for _, imp := range p.imports {
			to, ok := classify(imp)
			if !ok || slices.Contains(mayImport[from], to) {
				continue // an unplaced import is reported as a package of its own
			}
			if _, ok := exceptions[[2]string{p.path, imp}]; ok {
				continue
			}
			problems = append(problems, fmt.Sprintf("%s (%s) imports %s (%s): %s", p.path, from, imp, to, advice(from, to)))
		}
	}
	return problems
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		give []pkg
		want []string
	}{
		{
			name: "every arrow points down",
			give: []pkg{
				{"shared/incident", []string{"shared/errkind"}},
				{"shared/escalation", []string{"shared/incident", "shared/oncall"}},
				{"shared/sns", []string{"shared/oncall", "shared/incident"}},
				{"shared/httpapi", []string{"shared/slack", "shared/httpapi/apigw"}},
				{"shared/wiring", []string{"shared/escalation", "shared/dynamo", "shared/settings"}},
				{"functions/stream", []string{"shared/wiring", "shared/lifecycle"}},
				{"infra/local", []string{"infra/services", "shared/slack"}},
			},
		},
		{
			name: "an adapter imports a use case",
			give: []pkg{{"shared/sns", []string{"shared/lifecycle"}}},
			want: []string{"shared/sns (adapter) imports shared/lifecycle (use case): adapters must not import use cases; move the type it needs into a domain package (incident, oncall, errkind) or declare the interface in the use case and assert it in shared/wiring"},
		},
		{
			name: "a use case imports an adapter",
			give: []pkg{{"shared/lifecycle", []string{"shared/dynamo"}}},
			want: []string{"shared/lifecycle (use case) imports shared/dynamo (adapter): " + advice(useCase, adapter)},
		},
		{
			name: "a use case imports another",
			give: []pkg{{"shared/lifecycle", []string{"shared/escalation"}}},
			want: []string{"shared/lifecycle (use case) imports shared/escalation (use case): " + advice(useCase, useCase)},
		},
		{
			name: "a domain package imports an adapter",
			give: []pkg{{"shared/incident", []string{"shared/slack"}}},
			want: []string{"shared/incident (domain) imports shared/slack (adapter): " + advice(domain, adapter)},
		},
		{
			name: "an adapter imports the wiring",
			give: []pkg{{"shared/dynamo", []string{"shared/settings"}}},
			want: []string{"shared/dynamo (adapter) imports shared/settings (wiring): " + advice(adapter, wiring)},
		},
		{
			name: "shared imports an edge",
			give: []pkg{{"shared/wiring", []string{"infra/services"}}},
			want: []string{"shared/wiring (wiring) imports infra/services (edge): " + advice(wiring, edge)},
		},
		{
			name: "a package in no layer",
			give: []pkg{{"shared/utils", []string{"shared/incident"}}},
			want: []string{"shared/utils is in no layer: add it to the table in shared/layers (layers_test.go, and the prose of doc.go)"},
		},
		{
			name: "planned packages are placed",
			give: []pkg{
				{"shared/text", nil},
				{"shared/clock/clocktest", []string{"shared/clock"}},
				{"shared/wiring/wiringtest", []string{"shared/wiring"}},
				{"infra", []string{"infra/local"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := check(tt.give); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestImportDirection checks the module's own import graph: the non-test
// imports of every package (test files may import anything).
func TestImportDirection(t *testing.T) {
	pkgs, err := modulePackages()
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages of the module, want the whole module", len(pkgs))
	}
	for _, p := range check(pkgs) {
		t.Error(p)
	}
}

// modulePackages runs `go list -json ./...` at the module's root and returns
// its packages with their imports of the module, by path in the module.
func modulePackages() ([]pkg, error) {
	gomod, err := goCmd("", "env", "GOMOD")
	if err != nil {
		return nil, err
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	out, err := goCmd(root, "list", "-json=ImportPath,Imports,Module", "./...")
	if err != nil {
		return nil, err
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
			Module     *struct{ Path string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decode go list output: %w", err)
		}
		if p.Module == nil {
			return nil, fmt.Errorf("go list: package %s is in no module", p.ImportPath)
		}
		prefix := p.Module.Path + "/"
		rel, ok := strings.CutPrefix(p.ImportPath, prefix)
		if p.ImportPath == p.Module.Path {
			rel, ok = ".", true // the module's root: placed in no layer
		}
		if !ok {
			return nil, fmt.Errorf("go list: package %s is not below module %s", p.ImportPath, p.Module.Path)
		}
		q := pkg{path: rel}
		for _, imp := range p.Imports {
			if r, ok := strings.CutPrefix(imp, prefix); ok {
				q.imports = append(q.imports, r)
			}
		}
		pkgs = append(pkgs, q)
	}
	return pkgs, nil
}

func goCmd(dir string, args ...string) ([]byte, error) { return goCmdEnv(dir, nil, args...) }

// goCmdEnv runs go with args in dir, with env added to the environment.
func goCmdEnv(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}
