package xmlcodec

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test of the package leaks a goroutine. It is the
// package's only TestMain: codec and HTTP tests share it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
