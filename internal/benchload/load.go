// Package benchload runs the load loops every benchmark and the
// comparison example share, and reads the CPU time they cost, so their
// calls-in-flight and CPU-per-call figures mean the same thing.
package benchload

import (
	"sync"
	"sync/atomic"
	"time"
)

// RunCalls makes total calls on n goroutines, each taking the next call as
// it finishes one, and returns how long they took. It stops at the first
// error and returns it. Benchmarks of every transport use it, so their
// calls-in-flight figures mean the same thing.
func RunCalls(n, total int, call func() error) (time.Duration, error) {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		first atomic.Pointer[error]
	)
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(total) && first.Load() == nil {
				if err := call(); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		return 0, *err
	}
	return time.Since(start), nil
}
