package asl

import (
	"context"
	"strings"
	"testing"
)

// TestRunRefusesUnhandledTask checks a Task without a handler is refused
// before anything runs: un-overridden, it would call AWS.
func TestRunRefusesUnhandledTask(t *testing.T) {
	def := []byte(`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true}}}`)
	_, err := Run(context.Background(), def, []byte(`{}`), RunOptions{NodeModules: "../../node_modules"})
	if err == nil || !strings.Contains(err.Error(), "no handler") {
		t.Errorf("got %v, want a no-handler error", err)
	}
}

// TestRunWithoutNodeTools checks a missing node_modules fails with what to run.
func TestRunWithoutNodeTools(t *testing.T) {
	_, err := Run(context.Background(), []byte(`{}`), []byte(`{}`), RunOptions{NodeModules: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "npm ci") {
		t.Errorf("got %v, want an error saying to run npm ci", err)
	}
}
