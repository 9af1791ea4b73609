package funcs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
)

func TestFib(t *testing.T) {
	for n, want := range []int{0, 1, 1, 2, 3, 5, 8, 13, 21} {
		got, err := Fib(n)
		require.NoError(t, err)
		assert.Equal(t, want, got, "fib(%d)", n)
	}
	got, err := Fib(MaxFib)
	require.NoError(t, err)
	assert.Equal(t, 7540113804746346429, got)
	for _, n := range []int{-1, MaxFib + 1, 1 << 40} {
		_, err := Fib(n)
		assert.ErrorIs(t, err, transport.ErrInvalidParams, "fib(%d)", n)
	}
}

func TestAdd(t *testing.T) {
	assert.Equal(t, 5, Add(2, 3))
	assert.Equal(t, 1<<31, Add(1<<31-1, 1))
}
