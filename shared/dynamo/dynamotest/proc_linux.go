package dynamotest

import (
	"os/exec"
	"runtime"
	"syscall"
)

// sysProcAttr puts the JVM in its own process group (so stop can kill any child
// it forks) and has the kernel kill it when the test binary dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// lockThread pins the calling goroutine to its thread for good: Pdeathsig is
// tied to the thread that forked the child, not to the process.
func lockThread() { runtime.LockOSThread() }

func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
