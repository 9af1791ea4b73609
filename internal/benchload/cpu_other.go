//go:build !unix

package benchload

import "time"

// ProcessCPU is the user and system CPU time this process has used; this
// platform does not say, so it is 0.
func ProcessCPU() time.Duration { return 0 }
