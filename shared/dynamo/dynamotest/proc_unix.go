//go:build unix && !linux

package dynamotest

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the JVM in its own process group, so stop can kill any child
// it forks. Outside Linux there is no parent-death signal: an interrupted test
// binary can leave the JVM running.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func lockThread() {}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
