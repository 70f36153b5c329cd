//go:build unix

package dynamolocal

import (
	"os/exec"
	"syscall"
)

// killGroup kills the JVM's process group (sysProcAttr made it one), and the
// JVM itself in case it left the group.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}

// terminate asks the JVM to exit (SIGTERM): its shutdown hooks run.
func terminate(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
}
