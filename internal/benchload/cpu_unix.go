//go:build unix

package benchload

import (
	"syscall"
	"time"
)

// ProcessCPU is the user and system CPU time this process has used, for
// benchmarks that report CPU per call (steadier than wall time on a shared
// machine). It is 0 where the platform does not say.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
