package layers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// bootstrapClients lists, for each function under functions/, the AWS SDK
// clients (github.com/aws/aws-sdk-go-v2/service/<name>) its bootstrap may
// link: those its main builds. Every client linked costs 0.2 to 0.6 MB of a
// bootstrap that must stay under 10,000,000 bytes (README, "Bootstrap size").
// Secrets Manager is linked only where the Slack secret is read.
var bootstrapClients = map[string][]string{
	"alarms":   {"cloudwatch", "dynamodb"},
	"deploys":  {"dynamodb"},
	"dora":     {"dynamodb"},
	"api":      {"dynamodb", "secretsmanager", "sns"},
	"escalate": {"dynamodb", "secretsmanager", "sns"},
	"ingest":   {"dynamodb"},
	"logs":     {"dynamodb"},
	// web: the post-mortem bucket (GET and PUT /incidents/{id}/postmortem)
	// and the platform's secret (ack_link_key: GET and POST /ack/{token}).
	"web": {"dynamodb", "s3", "secretsmanager"},
	// postmortem: the post-mortem bucket, the Slack secret (war-room
	// announcements).
	"postmortem": {"dynamodb", "s3", "secretsmanager"},
	// seed: the table alone (its answer to CloudFormation is a plain
	// HTTPS PUT to a pre-signed URL).
	"seed":     {"dynamodb"},
	"stream":   {"dynamodb", "secretsmanager", "sfn", "sns"},
	"warroom":  {"dynamodb", "secretsmanager"},
	"watchdog": {"dynamodb", "sfn"},
}

// credentialChain are the packages of the SDK's default configuration and
// credential chain (config.LoadDefaultConfig), which a Lambda never runs: it
// reads its credentials from the environment (settings.AWSFromEnv). A path
// here matches the package and every package below it.
var credentialChain = []string{
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/credentials",
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
	"github.com/aws/aws-sdk-go-v2/internal/ini",
	"github.com/aws/aws-sdk-go-v2/service/signin",
	"github.com/aws/aws-sdk-go-v2/service/sso",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc",
	"github.com/aws/aws-sdk-go-v2/service/sts",
}

const sdkService = "github.com/aws/aws-sdk-go-v2/service/"

// sdkClient returns the client name of an SDK client package
// (…/service/dynamodb), and false for any other package (…/service/dynamodb/types,
// …/service/internal/…).
func sdkClient(path string) (string, bool) {
	name, ok := strings.CutPrefix(path, sdkService)
	if !ok || name == "" || strings.Contains(name, "/") || name == "internal" {
		return "", false
	}
	return name, true
}

// graph is a bootstrap's package graph: each package's imports.
type graph map[string][]string

// chain returns the shortest import chain from root to target, as
// "a → b → c".
func (g graph) chain(root, target string) string {
	prev := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == target {
			var path []string
			for q := p; q != ""; q = prev[q] {
				path = append(path, q)
			}
			slices.Reverse(path)
			return strings.Join(path, " → ")
		}
		for _, imp := range g[p] {
			if _, seen := prev[imp]; !seen {
				prev[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return target
}

// checkBootstrap returns what is wrong with what function fn's main (root)
// links, given its package graph: a package of the credential chain, an SDK
// client not in want, a client in want no longer linked (so the table stays
// true), or no entry for fn at all.
func checkBootstrap(fn, root string, g graph) []string {
	want, ok := bootstrapClients[fn]
	if !ok {
		return []string{fmt.Sprintf("functions/%s has no entry in bootstrapClients (shared/layers/bootstrap_test.go): list the SDK clients its main builds", fn)}
	}
	var problems []string
	var linked []string
	var pkgs []string
	for p, imports := range g {
		pkgs = append(pkgs, p)
		pkgs = append(pkgs, imports...)
	}
	slices.Sort(pkgs)
	pkgs = slices.Compact(pkgs)
	reported := map[string]bool{} // credentialChain entries, each once
	for _, p := range pkgs {
		inChain := false
		for _, c := range credentialChain {
			if p != c && !strings.HasPrefix(p, c+"/") {
				continue
			}
			inChain = true
			if !reported[c] {
				reported[c] = true
				problems = append(problems, fmt.Sprintf("functions/%s links %s, of the SDK's default credential chain (%s): build the AWS configuration with settings.AWSFromEnv, never config.LoadDefaultConfig, in what a function imports",
					fn, p, g.chain(root, p)))
			}
		}
		if name, ok := sdkClient(p); ok && !inChain {
			linked = append(linked, name)
			if !slices.Contains(want, name) {
				problems = append(problems, fmt.Sprintf("functions/%s links the SDK client %s, which its main does not build (%s): keep the client's constructor out of packages every function imports, or add it to bootstrapClients if the function now calls it",
					fn, name, g.chain(root, p)))
			}
		}
	}
	for _, name := range want {
		if !slices.Contains(linked, name) {
			problems = append(problems, fmt.Sprintf("functions/%s no longer links the SDK client %s: remove it from bootstrapClients", fn, name))
		}
	}
	return problems
}

func TestCheckBootstrap(t *testing.T) {
	const main = "example.com/m/functions/logs"
	tests := []struct {
		name string
		fn   string
		give graph
		want []string
	}{
		{
			name: "only its own clients",
			fn:   "logs",
			give: graph{main: {"example.com/m/shared/wiring"}, "example.com/m/shared/wiring": {sdkService + "dynamodb", sdkService + "dynamodbstreams/types"},
				sdkService + "dynamodb": {sdkService + "internal/endpoint-discovery"}},
		},
		{
			name: "the credential chain",
			fn:   "logs",
			give: graph{main: {"example.com/m/shared/settings", sdkService + "dynamodb"}, "example.com/m/shared/settings": {"github.com/aws/aws-sdk-go-v2/config"},
				"github.com/aws/aws-sdk-go-v2/config": {"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"}},
			want: []string{
				"functions/logs links github.com/aws/aws-sdk-go-v2/config, of the SDK's default credential chain (example.com/m/functions/logs → example.com/m/shared/settings → github.com/aws/aws-sdk-go-v2/config): build the AWS configuration with settings.AWSFromEnv, never config.LoadDefaultConfig, in what a function imports",
				"functions/logs links github.com/aws/aws-sdk-go-v2/feature/ec2/imds, of the SDK's default credential chain (example.com/m/functions/logs → example.com/m/shared/settings → github.com/aws/aws-sdk-go-v2/config → github.com/aws/aws-sdk-go-v2/feature/ec2/imds): build the AWS configuration with settings.AWSFromEnv, never config.LoadDefaultConfig, in what a function imports",
			},
		},
		{
			name: "an unneeded client",
			fn:   "logs",
			give: graph{main: {"example.com/m/shared/settings", sdkService + "dynamodb"}, "example.com/m/shared/settings": {sdkService + "secretsmanager"}},
			want: []string{"functions/logs links the SDK client secretsmanager, which its main does not build (example.com/m/functions/logs → example.com/m/shared/settings → github.com/aws/aws-sdk-go-v2/service/secretsmanager): keep the client's constructor out of packages every function imports, or add it to bootstrapClients if the function now calls it"},
		},
		{
			name: "a listed client no longer linked",
			fn:   "logs",
			give: graph{main: nil},
			want: []string{"functions/logs no longer links the SDK client dynamodb: remove it from bootstrapClients"},
		},
		{
			name: "a function not in the table",
			fn:   "probe",
			give: graph{main: nil},
			want: []string{"functions/probe has no entry in bootstrapClients (shared/layers/bootstrap_test.go): list the SDK clients its main builds"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkBootstrap(tt.fn, main, tt.give); !slices.Equal(got, tt.want) {
				t.Errorf("got %q,\nwant %q", got, tt.want)
			}
		})
	}
}

// TestBootstrapLinks reads what each function's bootstrap links, as `make
// build` builds it (linux/arm64, the Lambda tags), with `go list -deps`: no
// compilation, so it costs about a second. A function linking the default
// credential chain, or an SDK client its main does not build, fails it.
func TestBootstrapLinks(t *testing.T) {
	gomod, err := goCmd("", "env", "GOMOD")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	dirs, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < len(bootstrapClients) {
		t.Fatalf("found %d functions under functions/, want at least the %d of bootstrapClients", len(dirs), len(bootstrapClients))
	}
	for _, d := range dirs {
		fn := filepath.Base(filepath.Dir(d))
		t.Run(fn, func(t *testing.T) {
			main, g, err := bootstrapGraph(root, "./functions/"+fn)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range checkBootstrap(fn, main, g) {
				t.Error(p)
			}
		})
	}
}

// bootstrapGraph returns the import path of the package at dir (relative to
// root) and the graph of every package it links when built for Lambda.
func bootstrapGraph(root, dir string) (string, graph, error) {
	out, err := goCmdEnv(root, []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"},
		"list", "-deps", "-tags", "lambda.norpc,timetzdata", "-json=ImportPath,Imports", dir)
	if err != nil {
		return "", nil, err
	}
	g := graph{}
	var last string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", nil, fmt.Errorf("decode go list output: %w", err)
		}
		g[p.ImportPath] = p.Imports
		last = p.ImportPath // -deps lists the package itself last
	}
	return last, g, nil
}
