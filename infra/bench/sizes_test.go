package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bootstrap over 10,000,000 bytes is a FAIL line naming it, and an error
// (so `make bench` fails); one at the budget passes.
func TestPrintSizes(t *testing.T) {
	dir := t.TempDir()
	for name, size := range map[string]int64{"alarms": maxBootstrap, "api": maxBootstrap + 1} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), make([]byte, size), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var buf strings.Builder
	err := printSizes(&buf, dir)
	out := buf.String()
	if err == nil || err.Error() != "1 bootstrap(s) over 10,000,000 bytes" {
		t.Errorf("error: got %v, want one bootstrap over the budget", err)
	}
	for _, want := range []string{
		"  alarms      10,000,000 bytes",
		"  api         10,000,001 bytes",
		"FAIL api: bootstrap of 10,000,001 bytes, over the budget of 10,000,000\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output: got\n%s\nwant a line with %q", out, want)
		}
	}
	if strings.Contains(out, "FAIL alarms") {
		t.Errorf("output: got\n%s\nwant no FAIL for a bootstrap at the budget", out)
	}
}

func TestThousands(t *testing.T) {
	tests := []struct {
		give int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {9830562, "9,830,562"}, {10000000, "10,000,000"}}
	for _, tt := range tests {
		if got := thousands(tt.give); got != tt.want {
			t.Errorf("thousands(%d): got %q, want %q", tt.give, got, tt.want)
		}
	}
}
