package gobuild

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

func TestArgs(t *testing.T) {
	got := Args("./functions/api", "/out/bootstrap")
	want := []string{"build", "-tags", "lambda.norpc,timetzdata", "-trimpath", "-buildvcs=false",
		"-gcflags", "github.com/aws/...=-l", "-ldflags", "-s -w", "-o", "/out/bootstrap", "./functions/api"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Args: got %q, want %q", got, want)
	}
}

// writeModule creates a throwaway module with one main package, so the build
// path is tested without depending on functions/ in the repository.
func writeModule(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"go.mod":                  "module example.com/stub\n\ngo 1.22\n",
		"functions/hello/main.go": "package main\n\nfunc main() {}\n",
	}
	for name, body := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestBuildWritesArm64Bootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a binary for linux/arm64")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	root, out := writeModule(t), t.TempDir()
	b := &Bundler{ModuleRoot: root, Package: "./functions/hello"}
	if err := b.Build(goBin, out); err != nil {
		t.Fatalf("Build: %v", err)
	}
	checkBootstrap(t, filepath.Join(out, Binary))
}

// TestCodeBundlesThroughCDK synthesizes a function from Code the way `cdk synth`
// does, bundling on: CDK calls back into Bundler.TryBundle through jsii and
// stages the binary as the function's asset.
func TestCodeBundlesThroughCDK(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a binary for linux/arm64")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	root, outdir := writeModule(t), t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	stack := awscdk.NewStack(app, jsii.String("Bundle"), nil)
	awslambda.NewFunction(stack, jsii.String("Hello"), &awslambda.FunctionProps{
		Code:         Code(root, "./functions/hello"),
		Handler:      jsii.String(Binary),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
	})
	app.Synth(nil)
	assets, err := filepath.Glob(filepath.Join(outdir, "asset.*", Binary))
	if err != nil || len(assets) != 1 {
		t.Fatalf("staged bootstraps in %s: got %v (%v), want one", outdir, assets, err)
	}
	checkBootstrap(t, assets[0])
}

// checkBootstrap checks that path is what provided.al2023 on arm64 runs: an
// executable, static, aarch64 ELF binary.
func checkBootstrap(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat bootstrap: %v", err)
	}
	if st.Mode()&0o111 == 0 {
		t.Errorf("bootstrap mode %v: want executable", st.Mode())
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("open bootstrap as ELF: %v", err)
	}
	defer f.Close()
	if got, want := f.Machine, elf.EM_AARCH64; got != want {
		t.Errorf("ELF machine: got %v, want %v", got, want)
	}
	if interp := f.Section(".interp"); interp != nil {
		t.Error("bootstrap has an ELF interpreter: want a static binary (CGO_ENABLED=0)")
	}
}

func TestBuildMissingPackage(t *testing.T) {
	b := &Bundler{ModuleRoot: writeModule(t), Package: "./functions/nope"}
	err := b.Build("go", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no such package directory") {
		t.Errorf("Build: got error %v, want one about the missing directory", err)
	}
}

func TestTryBundleWithoutGoFallsBack(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	out := t.TempDir()
	b := &Bundler{ModuleRoot: writeModule(t), Package: "./functions/hello"}
	if got := b.TryBundle(&out, nil); got == nil || *got {
		t.Errorf("TryBundle without go: got %v, want false (Docker fallback)", got)
	}
}

func TestModuleRoot(t *testing.T) {
	root := writeModule(t)
	got, err := ModuleRoot(filepath.Join(root, "functions", "hello"))
	if err != nil {
		t.Fatalf("ModuleRoot: %v", err)
	}
	if got != root {
		t.Errorf("ModuleRoot: got %s, want %s", got, root)
	}
}

func TestDockerImage(t *testing.T) {
	if got := dockerImage(); !strings.HasPrefix(got, "public.ecr.aws/docker/library/golang:1") {
		t.Errorf("dockerImage: got %s, want a golang:1.x image", got)
	}
}
