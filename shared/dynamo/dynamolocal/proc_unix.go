//go:build unix && !linux

package dynamolocal

import "syscall"

// sysProcAttr puts the JVM in its own process group, so Stop can kill any child
// it forks. Outside Linux there is no parent-death signal: a process killed
// before it calls Stop can leave the JVM running.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func lockThread() {}
