// Package funcs holds the article's example functions, fun_add and fib,
// shared by every rpcwire example, test and benchmark.
package funcs

import (
	"fmt"

	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
)

// Add returns a + b: the article's fun_add.
func Add(a, b int) int { return a + b }

// MaxFib is the largest n whose Fibonacci number fits an int64.
const MaxFib = 92

// Fib returns the n-th Fibonacci number (Fib(0) = 0, Fib(1) = 1,
// Fib(7) = 13), the function the article's RabbitMQ RPC serves. A negative
// n, or one whose result would overflow int64, is an error wrapping
// transport.ErrInvalidParams.
func Fib(n int) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("%w: fib(%d): n must not be negative", transport.ErrInvalidParams, n)
	}
	if n > MaxFib {
		return 0, fmt.Errorf("%w: fib(%d) overflows int64 (n must be at most %d)", transport.ErrInvalidParams, n, MaxFib)
	}
	a, b := 0, 1
	for range n {
		a, b = b, a+b
	}
	return a, nil
}

// Register adds fun_add and fib to reg.
func Register(reg *registry.Registry) error {
	if err := reg.Register("fun_add", Add, registry.WithHelp("fun_add(a, b) returns a + b.")); err != nil {
		return err
	}
	return reg.Register("fib", Fib, registry.WithHelp(
		fmt.Sprintf("fib(n) returns the n-th Fibonacci number, fib(0) = 0, fib(1) = 1; 0 <= n <= %d.", MaxFib)))
}

// NewRegistry returns a registry serving fun_add, fib and introspection.
func NewRegistry(opts ...registry.Option) *registry.Registry {
	reg := registry.New(opts...)
	if err := Register(reg); err != nil {
		panic(err) // cannot happen: the names are fixed and free in a new registry
	}
	return reg
}
