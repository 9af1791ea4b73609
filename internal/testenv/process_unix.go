//go:build unix

package testenv

import (
	"os/exec"
	"syscall"
)

// ownGroup makes cmd the leader of a process group of its own, so kill
// ends the processes it starts too (php -S forks one to say it is ready).
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// kill kills cmd's process group, which is cmd's own (see ownGroup).
func kill(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
