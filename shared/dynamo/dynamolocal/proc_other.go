//go:build !unix

package dynamolocal

import (
	"os/exec"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func lockThread() {}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

// terminate is killGroup: no SIGTERM outside unix.
func terminate(cmd *exec.Cmd) { killGroup(cmd) }
