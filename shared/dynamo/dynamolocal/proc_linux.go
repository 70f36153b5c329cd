package dynamolocal

import (
	"runtime"
	"syscall"
)

// sysProcAttr puts the JVM in its own process group (so Stop can kill any child
// it forks, and a terminal's ^C reaches only our process, which stops the JVM
// itself) and has the kernel kill it when our process dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// lockThread pins the calling goroutine to its thread for good: Pdeathsig is
// tied to the thread that forked the child, not to the process.
func lockThread() { runtime.LockOSThread() }
