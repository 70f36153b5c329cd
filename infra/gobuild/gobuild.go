// Package gobuild turns a Go main package into Lambda code for the
// provided.al2023 runtime on arm64: a single static binary named bootstrap.
//
// The build runs on the machine that synthesizes (awscdk.ILocalBundling), so a
// bare `cdk synth` or `cdk deploy` compiles exactly what it deploys, without Docker.
// Only where no go command is on PATH does CDK fall back to a golang container
// running the same command.
package gobuild

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"
)

// Binary is the file name the provided.al2023 runtime executes.
const Binary = "bootstrap"

// env is the cross-compilation target: Graviton, and a static binary, because
// provided.al2023 offers no particular libc to link against.
var env = map[string]string{
	"GOOS":        "linux",
	"GOARCH":      "arm64",
	"CGO_ENABLED": "0",
}

// Args are the go command arguments that build pkg (a path relative to the module
// root, e.g. "./functions/alarms") into out.
//
// timetzdata embeds the IANA time zone database (~450 KB): on-call rotations
// follow their zones' wall clocks, and provided.al2023 does not promise
// /usr/share/zoneinfo. lambda.norpc drops aws-lambda-go's net/rpc shim, which
// only the retired go1.x runtime needs; -trimpath and -buildvcs=false keep the binary (and so the asset
// hash) identical across checkouts and commits that do not change the code;
// -s -w strip debug tables the Lambda runtime never reads; SDKNoInline keeps
// the SDK's generated clients from inlining.
func Args(pkg, out string) []string {
	return []string{"build", "-tags", "lambda.norpc,timetzdata", "-trimpath", "-buildvcs=false",
		"-gcflags", SDKNoInline, "-ldflags", "-s -w", "-o", out, pkg}
}

// SDKNoInline turns inlining off in the AWS modules (the SDK, its generated
// service clients with one serializer and deserializer per operation,
// smithy-go, aws-lambda-go): their code runs once per call or event and
// costs microseconds against the milliseconds of a round trip, while their
// inlined copies weigh on every bootstrap (README, "Bootstrap size"): the api
// is 9,896,098 bytes with it, 10,027,170 with the service clients alone not
// inlined, more with everything inlined (2026-12-03). Our own code and the
// standard library keep the compiler's inlining.
const SDKNoInline = "github.com/aws/...=-l"

// Bundler builds one main package of a module. It implements
// awscdk.ILocalBundling.
type Bundler struct {
	// ModuleRoot is the directory holding go.mod.
	ModuleRoot string
	// Package is the main package, relative to ModuleRoot ("./functions/api").
	Package string
}

var _ awscdk.ILocalBundling = (*Bundler)(nil)

// TryBundle builds the binary into outputDir. It reports false only when there is
// no go command, which makes CDK use the Docker image instead.
//
// The interface leaves no way to return an error: a jsii callback reports one by
// panicking, which the jsii runtime recovers and throws in the CDK app, failing the
// synth with this message. That is the only panic in the package.
func (b *Bundler) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return jsii.Bool(false)
	}
	if err := b.Build(goBin, *outputDir); err != nil {
		panic(err)
	}
	return jsii.Bool(true)
}

// Build runs goBin to write outputDir/bootstrap.
func (b *Bundler) Build(goBin, outputDir string) error {
	dir := filepath.Join(b.ModuleRoot, filepath.FromSlash(b.Package))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("build %s: no such package directory %s", b.Package, dir)
	}
	cmd := exec.Command(goBin, Args(b.Package, filepath.Join(outputDir, Binary))...)
	cmd.Dir = b.ModuleRoot
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// stdout of the CDK app belongs to the CDK CLI; compiler output goes to stderr,
	// which the CLI shows.
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s: go %s: %w", b.Package, strings.Join(Args(b.Package, Binary), " "), err)
	}
	return nil
}

// Code is the Lambda code built from the main package pkg of the module at
// moduleRoot (pkg as in Bundler.Package).
//
// The asset's source is the whole module (a function imports shared/), but its
// hash is taken from the built output, so CDK never fingerprints the module tree
// (node_modules included) and an unchanged binary is not uploaded again.
// Bundling is skipped, and nothing is compiled, for stacks CDK does not bundle:
// those outside the "aws:cdk:bundling-stacks" context, which the tests set to none.
func Code(moduleRoot, pkg string) awslambda.Code {
	dockerEnv := map[string]*string{
		// The container runs as the calling user, whose home may not be writable.
		"GOCACHE":    jsii.String("/tmp/go-cache"),
		"GOMODCACHE": jsii.String("/tmp/go-mod"),
	}
	for k, v := range env {
		dockerEnv[k] = jsii.String(v)
	}
	return awslambda.Code_FromAsset(jsii.String(moduleRoot), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_OUTPUT,
		Bundling: &awscdk.BundlingOptions{
			Local:       &Bundler{ModuleRoot: moduleRoot, Package: pkg},
			Image:       awscdk.DockerImage_FromRegistry(jsii.String(dockerImage())),
			Command:     jsii.Strings(append([]string{"go"}, Args(pkg, *awscdk.AssetStaging_BUNDLING_OUTPUT_DIR()+"/"+Binary)...)...),
			Environment: &dockerEnv,
		},
	})
}

// dockerImage is the golang image of the Go release that runs this app (major and
// minor, "go1.26.8" -> "1.26"), so the fallback compiles with the same toolchain.
func dockerImage() string {
	tag := "1"
	if v, ok := strings.CutPrefix(runtime.Version(), "go"); ok {
		if major, rest, ok := strings.Cut(v, "."); ok {
			minor, _, _ := strings.Cut(rest, ".")
			tag = major + "." + minor
		}
	}
	return "public.ecr.aws/docker/library/golang:" + tag
}

// ModuleRoot finds the directory holding go.mod, starting at dir and walking up.
// The CDK CLI runs the app from the repository root and `go test` from a package
// directory; both find the same module.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("module root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("module root: no go.mod in this directory or any parent")
		}
		dir = parent
	}
}
