package benchload

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunCalls(t *testing.T) {
	var calls atomic.Int64
	d, err := RunCalls(8, 1000, func() error { calls.Add(1); return nil })
	require.NoError(t, err)
	assert.Equal(t, int64(1000), calls.Load(), "exactly total calls")
	assert.Positive(t, d)

	boom := errors.New("boom")
	calls.Store(0)
	_, err = RunCalls(4, 1000, func() error {
		if calls.Add(1) == 10 {
			return boom
		}
		return nil
	})
	assert.ErrorIs(t, err, boom)
	assert.Less(t, calls.Load(), int64(1000), "stops after the first error")
	assert.Positive(t, ProcessCPU())
}
