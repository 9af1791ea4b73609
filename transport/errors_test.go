package transport_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
)

// sentinels are all the package's sentinel errors.
var sentinels = []error{
	transport.ErrNoServer, transport.ErrTimeout, transport.ErrClosed, transport.ErrConnection,
	transport.ErrMethodNotFound, transport.ErrNotFound, transport.ErrInvalidParams, transport.ErrParse, transport.ErrInternal,
	transport.ErrBusy, transport.ErrTooLarge, transport.ErrUnauthorized, transport.ErrUnknownScheme,
}

func TestToRemote(t *testing.T) {
	cases := []struct {
		name string
		err  error
		code int
	}{
		{"method not found", fmt.Errorf("%w: %q", transport.ErrMethodNotFound, "x"), transport.CodeMethodNotFound},
		{"invalid params", fmt.Errorf("%w: bad", transport.ErrInvalidParams), transport.CodeInvalidParams},
		{"parse", fmt.Errorf("decode: %w", transport.ErrParse), transport.CodeParse},
		{"internal", fmt.Errorf("%w: f panicked", transport.ErrInternal), transport.CodeInternal},
		{"busy", transport.ErrBusy, transport.CodeBusy},
		{"too large", fmt.Errorf("body: %w", transport.ErrTooLarge), transport.CodeTooLarge},
		{"timeout", transport.ErrTimeout, transport.CodeTimeout},
		{"deadline", context.DeadlineExceeded, transport.CodeTimeout},
		{"wrapped deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), transport.CodeTimeout},
		{"application", errors.New("disk full"), transport.CodeApplication},
		{"canceled", context.Canceled, transport.CodeApplication},
		{"no server", transport.ErrNoServer, transport.CodeApplication},
		{"closed", transport.ErrClosed, transport.CodeApplication},
		{"doubly wrapped", fmt.Errorf("outer: %w", fmt.Errorf("%w: inner", transport.ErrInvalidParams)), transport.CodeInvalidParams},
		{"joined", errors.Join(errors.New("x"), transport.ErrBusy), transport.CodeBusy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := transport.ToRemote(c.err)
			require.NotNil(t, f)
			assert.Equal(t, c.code, f.Code)
			assert.Equal(t, c.err.Error(), f.Message, "the message is the error's text")
		})
	}
}

func TestToRemoteKeepsRemoteError(t *testing.T) {
	re := &transport.RemoteError{Code: 42, Message: "the answer"}
	assert.Same(t, re, transport.ToRemote(re))
	assert.Same(t, re, transport.ToRemote(fmt.Errorf("relay: %w", re)), "a fault relayed from another server keeps its code")
	// A RemoteError wins over a sentinel elsewhere in the chain.
	assert.Same(t, re, transport.ToRemote(fmt.Errorf("%w: %w", transport.ErrInternal, re)))
}

func TestRemoteErrorIs(t *testing.T) {
	cases := []struct {
		name string
		err  *transport.RemoteError
		is   []error // every other sentinel must not match
	}{
		{"method not found", &transport.RemoteError{Code: transport.CodeMethodNotFound}, []error{transport.ErrMethodNotFound}},
		{"python not supported", &transport.RemoteError{Code: 1, Message: `<class 'Exception'>:method "nope" is not supported`},
			[]error{transport.ErrMethodNotFound}},
		{"python other fault", &transport.RemoteError{Code: 1, Message: "<class 'ZeroDivisionError'>:division by zero"}, nil},
		{"not supported text with another code", &transport.RemoteError{Code: 2, Message: `method "x" is not supported`}, nil},
		{"python, a method's own text", &transport.RemoteError{Code: 1, Message: "<class 'ValueError'>:format is not supported"}, nil},
		{"ruby missing method", &transport.RemoteError{Code: 1, Message: "Method no_such_method missing or wrong number of parameters!"},
			[]error{transport.ErrMethodNotFound}},
		{"ruby, another fault 1", &transport.RemoteError{Code: 1, Message: "Method x failed"}, nil},
		{"ruby text with another code", &transport.RemoteError{Code: 2, Message: "Method x missing or wrong number of parameters!"}, nil},
		{"phpxmlrpc unknown method", &transport.RemoteError{Code: 1, Message: "Unknown method"}, []error{transport.ErrMethodNotFound}},
		{"php extension", &transport.RemoteError{Code: -32601, Message: "server error. method not found.\n\nx"}, []error{transport.ErrMethodNotFound}},
		{"invalid params", &transport.RemoteError{Code: transport.CodeInvalidParams}, []error{transport.ErrInvalidParams}},
		{"parse", &transport.RemoteError{Code: transport.CodeParse}, []error{transport.ErrParse}},
		{"invalid request", &transport.RemoteError{Code: transport.CodeInvalidRequest}, []error{transport.ErrParse}},
		{"internal", &transport.RemoteError{Code: transport.CodeInternal}, []error{transport.ErrInternal}},
		{"busy", &transport.RemoteError{Code: transport.CodeBusy}, []error{transport.ErrBusy}},
		{"too large", &transport.RemoteError{Code: transport.CodeTooLarge}, []error{transport.ErrTooLarge}},
		{"timeout", &transport.RemoteError{Code: transport.CodeTimeout}, []error{transport.ErrTimeout, context.DeadlineExceeded}},
		{"application", &transport.RemoteError{Code: transport.CodeApplication, Message: "x"}, nil},
		{"custom", &transport.RemoteError{Code: 42}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wrapped := fmt.Errorf("call fib: %w", c.err)
			for _, target := range append(sentinels, context.DeadlineExceeded, context.Canceled) {
				want := false
				for _, is := range c.is {
					want = want || is == target
				}
				assert.Equal(t, want, errors.Is(c.err, target), "errors.Is(%v, %v)", c.err, target)
				assert.Equal(t, want, errors.Is(wrapped, target), "wrapped: errors.Is(%v, %v)", wrapped, target)
			}
			var re *transport.RemoteError
			require.ErrorAs(t, wrapped, &re)
			assert.Same(t, c.err, re)
		})
	}
}

// TestSentinelRoundTrip: a sentinel turned into a fault on the server is
// recognised by errors.Is on the client, for every sentinel that has a
// fault code of its own.
func TestSentinelRoundTrip(t *testing.T) {
	for _, s := range []error{
		transport.ErrMethodNotFound, transport.ErrInvalidParams, transport.ErrParse, transport.ErrInternal,
		transport.ErrBusy, transport.ErrTooLarge, transport.ErrTimeout,
	} {
		f := transport.ToRemote(fmt.Errorf("%w: detail", s))
		assert.ErrorIs(t, f, s, "%v -> fault %d", s, f.Code)
		assert.Contains(t, f.Message, "detail")
	}
}

func TestRemoteErrorMessage(t *testing.T) {
	assert.Equal(t, "remote fault -32601: rpcwire: method not found: \"x\"",
		(&transport.RemoteError{Code: transport.CodeMethodNotFound, Message: `rpcwire: method not found: "x"`}).Error())
}

func TestContextError(t *testing.T) {
	assert.NoError(t, transport.ContextError(context.Background(), "fib"))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := transport.ContextError(ctx, "fib")
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, transport.ErrTimeout)
	assert.Contains(t, err.Error(), "fib")

	dctx, dcancel := context.WithTimeout(context.Background(), -time.Second)
	defer dcancel()
	err = transport.ContextError(dctx, "fib")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, transport.ErrTimeout)
	assert.Contains(t, err.Error(), "fib")
	assert.Equal(t, transport.CodeTimeout, transport.ToRemote(err).Code)

	cctx, ccancel := context.WithCancelCause(context.Background())
	ccancel(errors.New("shutting down"))
	assert.ErrorIs(t, transport.ContextError(cctx, "fib"), context.Canceled)
}

func TestSentinelsDistinct(t *testing.T) {
	for i, a := range sentinels {
		assert.Contains(t, a.Error(), "rpcwire: ")
		for j, b := range sentinels {
			if i != j {
				assert.NotErrorIs(t, a, b)
			}
		}
	}
}

func TestFaultError(t *testing.T) {
	busy := &transport.RemoteError{Code: transport.CodeBusy, Message: "busy"}
	timeout := &transport.RemoteError{Code: transport.CodeTimeout, Message: "deadline passed on the server"}

	err := transport.FaultError(context.Background(), "fib", busy)
	assert.Same(t, busy, err, "a live context returns the fault itself")
	err = transport.FaultError(context.Background(), "fib", timeout)
	assert.Same(t, timeout, err, "a server timeout without a caller deadline stays a fault")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = transport.FaultError(ctx, "fib", busy)
	assert.ErrorIs(t, err, context.Canceled, "the caller's cancel wins over the fault")

	// The deadline has passed but ctx.Err may not say so yet: the server's
	// timeout fault is reported as the caller's deadline.
	past := time.Now().Add(-time.Millisecond)
	dctx := deadlineOnly{Context: context.Background(), deadline: past}
	err = transport.FaultError(dctx, "fib", timeout)
	assert.ErrorIs(t, err, transport.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "fib")
	err = transport.FaultError(dctx, "fib", busy)
	assert.Same(t, busy, err, "other faults are kept")

	future := deadlineOnly{Context: context.Background(), deadline: time.Now().Add(time.Hour)}
	assert.Same(t, timeout, transport.FaultError(future, "fib", timeout))
}

// deadlineOnly has a deadline whose timer has not fired: Err is nil.
type deadlineOnly struct {
	context.Context
	deadline time.Time
}

func (d deadlineOnly) Deadline() (time.Time, bool) { return d.deadline, true }
