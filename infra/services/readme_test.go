package services

import (
	"os"
	"strings"
	"testing"
)

// The services.json example of infra/README.md is a file the stack loads:
// the documentation cannot drift from what infra/services accepts.
func TestREADMEExampleLoads(t *testing.T) {
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## services.json\n")
	if !ok {
		t.Fatal(`infra/README.md: no "## services.json" section`)
	}
	_, block, ok := strings.Cut(section, "```json\n")
	if !ok {
		t.Fatal(`infra/README.md "services.json": no json example`)
	}
	example, _, _ := strings.Cut(block, "```")
	file := t.TempDir() + "/services.json"
	if err := os.WriteFile(file, []byte(example), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file)
	if err != nil {
		t.Fatalf("the example of infra/README.md: got %v, want it to load", err)
	}
	if len(cfg.Services) == 0 {
		t.Error("the example of infra/README.md: got no services, want its services")
	}
}
