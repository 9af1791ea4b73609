// Package transporttest is the conformance suite every rpcwire transport
// passes: the same calls, values, faults, deadlines, concurrency, one-way
// messages and shutdown behaviour, whatever the wire.
//
// A transport's test calls Run with a way to start a server and dial it:
//
//	func TestConformance(t *testing.T) {
//		transporttest.Run(t, transporttest.Transport{
//			Name:   "mem",
//			Listen: func(ctx context.Context, d transport.Dispatcher) (transport.Server, error) { ... },
//			Dial:   func(ctx context.Context, addr string) (transport.Client, error) { ... },
//		})
//	}
package transporttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
)

// Transport tells the suite how to start a server and reach it.
type Transport struct {
	// Name labels the subtests.
	Name string
	// Listen starts a server serving d. The suite shuts it down.
	Listen func(ctx context.Context, d transport.Dispatcher) (transport.Server, error)
	// Dial opens a client to a server's Addr. The suite closes it.
	Dial func(ctx context.Context, addr string) (transport.Client, error)
}

// Point is a struct value the suite sends through Echo calls.
type Point struct {
	X     int      `rpc:"x"`
	Y     int      `rpc:"y"`
	Label string   `rpc:"label"`
	Tags  []string `rpc:"tags"`
}

// errCustom is returned by the "fail" method; the client sees it as an
// application fault carrying its text.
var errCustom = errors.New("custom failure from the server")

// suite holds the registry and the hooks its methods report to.
type suite struct {
	reg      *registry.Registry
	notified chan string
	started  chan struct{} // a "slow" call has started
}

func newSuite(t *testing.T) *suite {
	s := &suite{
		reg:      funcs.NewRegistry(),
		notified: make(chan string, 16),
		started:  make(chan struct{}, 16),
	}
	must := func(name string, fn any) { require.NoError(t, s.reg.Register(name, fn)) }
	must("echo", func(v any) any { return v })
	must("echo_point", func(p Point) Point { return p })
	must("echo_bytes", func(b []byte) []byte { return b })
	must("echo_time", func(tm time.Time) time.Time { return tm })
	must("fail", func() error { return errCustom })
	must("fail_code", func() error { return &transport.RemoteError{Code: 42, Message: "the answer"} })
	must("panic", func() int { panic("deliberate test panic") })
	must("nothing", func() {})
	must("sleep", func(ctx context.Context, ms int) (string, error) {
		select {
		case s.started <- struct{}{}:
		default:
		}
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			return "slept", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
	must("record", func(msg string) {
		select {
		case s.notified <- msg:
		default:
		}
	})
	return s
}

// Run runs the conformance suite against tr.
func Run(t *testing.T, tr Transport) {
	t.Helper()
	s := newSuite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := tr.Listen(ctx, s.reg)
	require.NoError(t, err, "listen")
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		assert.NoError(t, srv.Shutdown(sctx), "shutdown")
	}()
	c, err := tr.Dial(ctx, srv.Addr())
	require.NoError(t, err, "dial %s", srv.Addr())
	defer func() { assert.NoError(t, c.Close()) }()

	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, c) })
	t.Run("Values", func(t *testing.T) { testValues(t, c) })
	t.Run("ReplyTypes", func(t *testing.T) { testReplyTypes(t, c) })
	t.Run("Faults", func(t *testing.T) { testFaults(t, c) })
	t.Run("Deadline", func(t *testing.T) { testDeadline(t, c) })
	t.Run("Cancel", func(t *testing.T) { testCancel(t, c, s) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, c) })
	t.Run("Notify", func(t *testing.T) { testNotify(t, c, s) })
	t.Run("Introspection", func(t *testing.T) { testIntrospection(t, c) })
	t.Run("Close", func(t *testing.T) { testClose(t, tr, srv.Addr()) })
	t.Run("Shutdown", func(t *testing.T) { testShutdown(t, tr, s) })
}

// callCtx bounds one call of the suite, so a broken transport fails the
// test instead of hanging it.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testRoundTrip(t *testing.T, c transport.Client) {
	var sum int
	require.NoError(t, c.Call(callCtx(t), "fun_add", []any{2, 3}, &sum))
	assert.Equal(t, 5, sum)
	var fib int
	require.NoError(t, c.Call(callCtx(t), "fib", []any{7}, &fib))
	assert.Equal(t, 13, fib)
	var big int64
	require.NoError(t, c.Call(callCtx(t), "fun_add", []any{1<<31 - 1, 1}, &big))
	assert.Equal(t, int64(1<<31), big, "results beyond int32")
	require.NoError(t, c.Call(callCtx(t), "fib", []any{funcs.MaxFib}, &big))
	assert.Equal(t, int64(7540113804746346429), big)
	require.NoError(t, c.Call(callCtx(t), "nothing", nil, nil))
}

func testValues(t *testing.T, c transport.Client) {
	when := time.Date(2026, 11, 25, 13, 55, 16, 0, time.UTC)
	cases := []struct {
		name string
		in   any
		want any
	}{
		{"int", 42, int64(42)},
		{"negative", -7, int64(-7)},
		{"int64", int64(1) << 40, int64(1) << 40},
		{"minInt64", int64(-1 << 63), int64(-1 << 63)},
		{"true", true, true},
		{"false", false, false},
		{"string", "hello", "hello"},
		{"empty string", "", ""},
		{"markup", `<a href="x">&amp; 'q'</a>`, `<a href="x">&amp; 'q'</a>`},
		{"unicode", "héllo, 世界 ✓", "héllo, 世界 ✓"},
		{"whitespace", "  two\nlines\t ", "  two\nlines\t "},
		{"double", 3.25, 3.25},
		{"negative double", -1e-7, -1e-7},
		{"large double", 1.5e300, 1.5e300},
		{"bytes", []byte{0, 1, 2, 0xff}, []byte{0, 1, 2, 0xff}},
		{"time", when, when},
		{"array", []any{1, "two", 3.5, true}, []any{int64(1), "two", 3.5, true}},
		{"empty array", []any{}, []any{}},
		{"struct", map[string]any{"a": 1, "b": "x"}, map[string]any{"a": int64(1), "b": "x"}},
		{"nested", map[string]any{"list": []any{map[string]any{"k": []any{int64(1)}}}},
			map[string]any{"list": []any{map[string]any{"k": []any{int64(1)}}}}},
		{"go struct", Point{X: 1, Y: 2, Label: "p", Tags: []string{"a"}},
			map[string]any{"x": int64(1), "y": int64(2), "label": "p", "tags": []any{"a"}}},
		{"typed slice", []int{1, 2, 3}, []any{int64(1), int64(2), int64(3)}},
		{"nil", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got any
			require.NoError(t, c.Call(callCtx(t), "echo", []any{tc.in}, &got))
			if want, ok := tc.want.(time.Time); ok {
				gt, ok := got.(time.Time)
				require.True(t, ok, "got %T", got)
				assert.True(t, want.Equal(gt), "want %v, got %v", want, gt)
				return
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func testReplyTypes(t *testing.T, c transport.Client) {
	p := Point{X: 3, Y: -4, Label: "<&>", Tags: []string{"x", "y"}}
	var gotP Point
	require.NoError(t, c.Call(callCtx(t), "echo_point", []any{p}, &gotP))
	assert.Equal(t, p, gotP)

	var pp *Point
	require.NoError(t, c.Call(callCtx(t), "echo_point", []any{map[string]any{"x": 1}}, &pp))
	require.NotNil(t, pp)
	assert.Equal(t, 1, pp.X)

	var b []byte
	require.NoError(t, c.Call(callCtx(t), "echo_bytes", []any{[]byte("bin\x00ary")}, &b))
	assert.Equal(t, []byte("bin\x00ary"), b)

	when := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	var tm time.Time
	require.NoError(t, c.Call(callCtx(t), "echo_time", []any{when}, &tm))
	assert.True(t, when.Equal(tm), "got %v", tm)

	var ints []int
	require.NoError(t, c.Call(callCtx(t), "echo", []any{[]int{5, 6}}, &ints))
	assert.Equal(t, []int{5, 6}, ints)

	var m map[string]int
	require.NoError(t, c.Call(callCtx(t), "echo", []any{map[string]int{"a": 1}}, &m))
	assert.Equal(t, map[string]int{"a": 1}, m)

	var s string
	err := c.Call(callCtx(t), "fun_add", []any{1, 2}, &s)
	require.Error(t, err, "an int reply into a string")
	assert.Contains(t, err.Error(), "string")

	var small int8
	err = c.Call(callCtx(t), "fun_add", []any{100, 100}, &small)
	require.Error(t, err, "200 into int8")
	assert.Contains(t, err.Error(), "overflows")

	require.NoError(t, c.Call(callCtx(t), "fun_add", []any{1, 2}, nil), "nil reply discards the result")
}

func testFaults(t *testing.T, c transport.Client) {
	cases := []struct {
		name     string
		method   string
		args     []any
		sentinel error
		code     int
		contains string
	}{
		{"unknown method", "no_such_method", nil, transport.ErrMethodNotFound, transport.CodeMethodNotFound, "no_such_method"},
		{"too few args", "fun_add", []any{1}, transport.ErrInvalidParams, transport.CodeInvalidParams, "2 arguments"},
		{"too many args", "fun_add", []any{1, 2, 3}, transport.ErrInvalidParams, transport.CodeInvalidParams, "got 3"},
		{"wrong type", "fun_add", []any{1, "two"}, transport.ErrInvalidParams, transport.CodeInvalidParams, "argument 2"},
		{"app invalid params", "fib", []any{-1}, transport.ErrInvalidParams, transport.CodeInvalidParams, "negative"},
		{"fib overflow", "fib", []any{funcs.MaxFib + 1}, transport.ErrInvalidParams, transport.CodeInvalidParams, "overflows"},
		{"app error", "fail", nil, nil, transport.CodeApplication, errCustom.Error()},
		{"app code", "fail_code", nil, nil, 42, "the answer"},
		{"panic", "panic", nil, transport.ErrInternal, transport.CodeInternal, "panicked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out any
			err := c.Call(callCtx(t), tc.method, tc.args, &out)
			require.Error(t, err)
			var re *transport.RemoteError
			require.True(t, errors.As(err, &re), "want *RemoteError, got %T: %v", err, err)
			assert.Equal(t, tc.code, re.Code)
			assert.Contains(t, re.Message, tc.contains)
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel)
			}
		})
	}
	var sum int
	require.NoError(t, c.Call(callCtx(t), "fun_add", []any{1, 1}, &sum), "server still serves after faults")
	assert.Equal(t, 2, sum)
}

func testDeadline(t *testing.T, c transport.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	var out string
	err := c.Call(ctx, "sleep", []any{10_000}, &out)
	require.Error(t, err)
	assert.ErrorIs(t, err, transport.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "the call must end at its deadline, not the method's")

	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	err = c.Call(expired, "fun_add", []any{1, 2}, &out)
	assert.ErrorIs(t, err, transport.ErrTimeout, "a call whose deadline has passed is not sent")

	require.NoError(t, c.Call(callCtx(t), "sleep", []any{1}, &out), "client still works after a timeout")
	assert.Equal(t, "slept", out)
}

func testCancel(t *testing.T, c transport.Client, s *suite) {
	drain(s.started)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var out string
		done <- c.Call(ctx, "sleep", []any{10_000}, &out)
	}()
	select {
	case <-s.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow call never reached the server")
	}
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Call did not return after its context was cancelled")
	}
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	var sum int
	assert.ErrorIs(t, c.Call(canceled, "fun_add", []any{1, 2}, &sum), context.Canceled)
}

func testConcurrent(t *testing.T, c transport.Client) {
	const workers, calls = 64, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				var sum int
				if err := c.Call(callCtx(t), "fun_add", []any{w, i * 1000}, &sum); err != nil {
					errs <- err
					continue
				}
				if sum != w+i*1000 {
					errs <- fmt.Errorf("fun_add(%d, %d) = %d: a reply went to the wrong caller", w, i*1000, sum)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

func testNotify(t *testing.T, c transport.Client, s *suite) {
	drain(s.notified)
	require.NoError(t, c.Notify(callCtx(t), "record", []any{"one-way hello"}))
	select {
	case got := <-s.notified:
		assert.Equal(t, "one-way hello", got)
	case <-time.After(10 * time.Second):
		t.Fatal("the one-way call never ran")
	}
	// A one-way call to a method that fails must not break the client.
	assert.NotPanics(t, func() { _ = c.Notify(callCtx(t), "fail", nil) })
	var sum int
	require.NoError(t, c.Call(callCtx(t), "fun_add", []any{2, 2}, &sum))
	assert.Equal(t, 4, sum)
}

func testIntrospection(t *testing.T, c transport.Client) {
	var names []string
	require.NoError(t, c.Call(callCtx(t), registry.ListMethods, nil, &names))
	assert.Contains(t, names, "fun_add")
	assert.Contains(t, names, "fib")
	assert.Contains(t, names, registry.Multicall)

	var help string
	require.NoError(t, c.Call(callCtx(t), registry.MethodHelp, []any{"fib"}, &help))
	assert.Contains(t, help, "Fibonacci")

	var sig [][]string
	require.NoError(t, c.Call(callCtx(t), registry.MethodSignature, []any{"fun_add"}, &sig))
	assert.Equal(t, [][]string{{"int", "int", "int"}}, sig)

	var results []any
	calls := []any{
		map[string]any{"methodName": "fun_add", "params": []any{2, 3}},
		map[string]any{"methodName": "fib", "params": []any{-1}},
		map[string]any{"methodName": "fib", "params": []any{7}},
	}
	require.NoError(t, c.Call(callCtx(t), registry.Multicall, []any{calls}, &results))
	require.Len(t, results, 3)
	assert.Equal(t, []any{int64(5)}, results[0])
	fault, ok := results[1].(map[string]any)
	require.True(t, ok, "a failed multicall entry is a fault struct, got %#v", results[1])
	assert.Equal(t, int64(transport.CodeInvalidParams), fault["faultCode"])
	assert.Equal(t, []any{int64(13)}, results[2])
}

func testClose(t *testing.T, tr Transport, addr string) {
	c, err := tr.Dial(callCtx(t), addr)
	require.NoError(t, err)
	var sum int
	require.NoError(t, c.Call(callCtx(t), "fun_add", []any{1, 2}, &sum))
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "Close is idempotent")
	assert.ErrorIs(t, c.Call(callCtx(t), "fun_add", []any{1, 2}, &sum), transport.ErrClosed)
	assert.ErrorIs(t, c.Notify(callCtx(t), "record", []any{"x"}), transport.ErrClosed)
}

func testShutdown(t *testing.T, tr Transport, s *suite) {
	srv, err := tr.Listen(callCtx(t), s.reg)
	require.NoError(t, err)
	c, err := tr.Dial(callCtx(t), srv.Addr())
	require.NoError(t, err)
	defer c.Close()

	drain(s.started)
	done := make(chan error, 1)
	var out string
	go func() { done <- c.Call(callCtx(t), "sleep", []any{300}, &out) }()
	select {
	case <-s.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow call never reached the server")
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(sctx))
	select {
	case err := <-done:
		require.NoError(t, err, "Shutdown lets the call in flight finish")
		assert.Equal(t, "slept", out)
	case <-time.After(10 * time.Second):
		t.Fatal("the call in flight never finished")
	}
	assert.NoError(t, srv.Close(), "Close after Shutdown")
	assert.NoError(t, srv.Close(), "Close is idempotent")
}

func drain[T any](ch chan T) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}
