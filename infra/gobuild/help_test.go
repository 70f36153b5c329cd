package gobuild

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Every command under infra/ with flags answers --help (and -h) with its
// usage and exit status 0, each subcommand too (README "Local development").
// Not here: infra itself, the CDK app, which cdk runs and which reads no flags.
func TestCommandsHelpExitsZero(t *testing.T) {
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	list := exec.Command("go", "list", "-f", "{{.Name}} {{.ImportPath}}", "./infra/...")
	list.Dir = root
	out, err := list.Output()
	if err != nil {
		t.Fatal(err)
	}
	commands := map[string][][]string{
		"bench":   {{}},
		"cost":    {{}},
		"demo":    {{}},
		"local":   {{}, {"replay"}},
		"reindex": {{}},
		"token":   {{}, {"create"}, {"list"}, {"revoke"}, {"integration"}, {"integration", "create"}, {"integration", "list"}, {"integration", "revoke"}},
	}
	dir := t.TempDir()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, path, _ := strings.Cut(line, " ")
		if name != "main" || path == "github.com/incidentd/incidentd/infra" {
			continue
		}
		cmd := filepath.Base(path)
		subs, ok := commands[cmd]
		if !ok {
			t.Errorf("command infra/%s: not in this test; add it with its subcommands", cmd)
			continue
		}
		bin := filepath.Join(dir, cmd)
		build := exec.Command("go", "build", "-o", bin, "./infra/"+cmd)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build infra/%s: %v\n%s", cmd, err, out)
		}
		for _, sub := range subs {
			for _, flag := range []string{"--help", "-h"} {
				args := append(append([]string(nil), sub...), flag)
				run := exec.Command(bin, args...)
				run.Dir = root
				got, err := run.CombinedOutput()
				if err != nil || !strings.Contains(strings.ToLower(string(got)), "usage") {
					t.Errorf("go run ./infra/%s %s: got %v, output %q; want exit status 0 and a usage", cmd, strings.Join(args, " "), err, got)
				}
			}
		}
	}
}
