package gobuild_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/incidentd/incidentd/infra/gobuild"
)

// maxBootstrap is issue 9's budget for every function's bootstrap (README,
// "Bootstrap size"); make bench prints the sizes with a FAIL line too.
const maxBootstrap = 10_000_000

// TestBootstrapBudget builds every function under functions/ as cdk deploy
// builds it (Bundler.Build, the same flags) and fails for a bootstrap over
// the budget: a change that crosses it fails make test, not only make bench.
func TestBootstrapBudget(t *testing.T) {
	root, err := gobuild.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command on PATH: %v", err)
	}
	dirs, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no functions under %s/functions: %v", root, err)
	}
	for _, main := range dirs {
		name := filepath.Base(filepath.Dir(main))
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			b := &gobuild.Bundler{ModuleRoot: root, Package: "./functions/" + name}
			if err := b.Build(goBin, out); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(filepath.Join(out, gobuild.Binary))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("functions/%s: %d bytes", name, st.Size())
			if st.Size() > maxBootstrap {
				t.Errorf("functions/%s: bootstrap of %d bytes, over the budget of %d (README, \"Bootstrap size\")", name, st.Size(), maxBootstrap)
			}
		})
	}
}
