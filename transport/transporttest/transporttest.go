// Package transporttest is the conformance suite every rpcwire transport
// passes: the same calls, values, faults, deadlines, limits, concurrency,
// one-way messages, closing and shutdown, whatever the wire. It needs
// only the standard library, the transport contract and the registry, so a
// transport of your own can run it too:
//
//	func TestConformance(t *testing.T) {
//		transporttest.Run(t, transporttest.Transport{
//			Name:     "mine",
//			Listen:   func(ctx context.Context, d transport.Dispatcher, opts ...transport.ServerOption) (transport.Server, error) { ... },
//			Dial:     func(ctx context.Context, addr string, opts ...transport.ClientOption) (transport.Client, error) { ... },
//			NoServer: "mine://nobody",
//			Secret:   "mine://user:" + transporttest.Password + "@nobody",
//		})
//	}
package transporttest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
)

// Password is the password Transport.Secret carries. No error, log line
// or address the suite sees may contain it.
const Password = "s3cret-Passw0rd"

// Transport tells the suite how to start servers of one transport and
// reach them.
type Transport struct {
	// Name labels the subtests.
	Name string
	// Listen starts a server serving d with opts, each time at an address
	// of its own. The suite stops it.
	Listen func(ctx context.Context, d transport.Dispatcher, opts ...transport.ServerOption) (transport.Server, error)
	// Dial opens a client to addr (a server's Addr, NoServer or Secret)
	// with opts. The suite closes it.
	Dial func(ctx context.Context, addr string, opts ...transport.ClientOption) (transport.Client, error)
	// NoServer is an address Dial accepts where no server listens: a
	// closed port, a queue nobody declared, an unused name.
	NoServer string
	// Secret is an address whose user info carries Password (where no
	// server listens, or a server refuses it). Dialling and calling it
	// must fail without the password in any error.
	Secret string
	// TLS says Listen serves TLS; otherwise the suite checks that a TLS
	// configuration is refused with transport.ErrUnsupported.
	TLS bool
	// Queues says calls wait in a queue outside the server (a broker's):
	// calls beyond a server's WithMaxInFlight wait for a slot instead of
	// failing with transport.ErrBusy.
	Queues bool
	// Limited, when set, is a codec of the name clients use by default
	// that refuses arrays nested deeper than 3 levels (for example
	// transport.BodyOnly(xmlcodec.Codec{MaxDepth: 3})): the suite checks
	// that transport.WithCodec puts it to use on both sides.
	Limited transport.Codec
}

// Point is a struct value the suite sends through echo calls.
type Point struct {
	X     int      `rpc:"x"`
	Y     int      `rpc:"y"`
	Label string   `rpc:"label"`
	Tags  []string `rpc:"tags"`
}

// errCustom is returned by the "fail" method; the client sees it as an
// application fault carrying its text.
var errCustom = errors.New("custom failure from the server")

// maxFib is the largest n whose Fibonacci number fits an int64.
const maxFib = 92

// suite holds the registry and the hooks its methods report to.
type suite struct {
	tr       Transport
	reg      *registry.Registry
	notified chan string
	started  chan string                   // a "sleep" or "hold" call has started (its name)
	release  atomic.Pointer[chan struct{}] // closed to let "hold" calls return
	held     Gauge                         // "hold" calls running
}

func newSuite(t *testing.T, tr Transport) *suite {
	s := &suite{
		tr:       tr,
		reg:      registry.New(),
		notified: make(chan string, 64),
		started:  make(chan string, 64),
	}
	s.holdUntilReleased()
	must := func(name string, fn any, opts ...registry.MethodOption) {
		if err := s.reg.Register(name, fn, opts...); err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
	}
	must("add", func(a, b int) int { return a + b }, registry.WithHelp("add(a, b) returns a + b."))
	must("fib", fib, registry.WithHelp("fib(n) returns the n-th Fibonacci number."))
	must("echo", func(v any) any { return v })
	must("echo_point", func(p Point) Point { return p })
	must("echo_bytes", func(b []byte) []byte { return b })
	must("echo_time", func(tm time.Time) time.Time { return tm })
	must("repeat", func(n int) string { return strings.Repeat("x", n) })
	must("nest", func(n int) any {
		var v any = "core"
		for range n {
			v = []any{v}
		}
		return v
	})
	must("fail", func() error { return errCustom })
	must("fail_code", func() error { return &transport.RemoteError{Code: 42, Message: "the answer"} })
	must("panic", func() int { panic("deliberate test panic") })
	must("nothing", func() {})
	must("sleep", func(ctx context.Context, ms int) (string, error) {
		s.signal("sleep")
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			return "slept", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
	must("hold", func(ctx context.Context, tag string) string {
		defer s.held.Enter()()
		s.signal("hold " + tag)
		select {
		case <-*s.release.Load():
		case <-ctx.Done():
		}
		s.record("held " + tag)
		return tag
	})
	must("record", s.record)
	must("metadata", func(ctx context.Context) map[string]string { return transport.IncomingMetadata(ctx) })
	must("record_metadata", func(ctx context.Context, key string) { s.record(key + "=" + transport.IncomingMetadata(ctx).Get(key)) })
	must("peer", func(ctx context.Context) (string, error) {
		p, ok := transport.PeerFromContext(ctx)
		if !ok {
			return "", errors.New("no Peer in the function's context")
		}
		return p.Transport, nil
	})
	return s
}

func fib(n int) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("%w: fib(%d): n must not be negative", transport.ErrInvalidParams, n)
	}
	if n > maxFib {
		return 0, fmt.Errorf("%w: fib(%d) overflows int64", transport.ErrInvalidParams, n)
	}
	a, b := 0, 1
	for range n {
		a, b = b, a+b
	}
	return a, nil
}

// holdUntilReleased makes "hold" calls block until releaseHeld.
func (s *suite) holdUntilReleased() {
	ch := make(chan struct{})
	s.release.Store(&ch)
}

// releaseHeld lets the "hold" calls return.
func (s *suite) releaseHeld() { close(*s.release.Load()) }

func (s *suite) signal(what string) {
	select {
	case s.started <- what:
	default:
	}
}

func (s *suite) record(msg string) {
	select {
	case s.notified <- msg:
	default:
	}
}

// Run runs the conformance suite against tr.
func Run(t *testing.T, tr Transport) {
	t.Helper()
	s := newSuite(t, tr)
	srv := s.listen(t)
	c := s.dial(t, srv.Addr())

	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, c) })
	t.Run("Values", func(t *testing.T) { testValues(t, c) })
	t.Run("ReplyTypes", func(t *testing.T) { testReplyTypes(t, c, s) })
	t.Run("Faults", func(t *testing.T) { testFaults(t, c) })
	t.Run("Deadline", func(t *testing.T) { testDeadline(t, c) })
	t.Run("Cancel", func(t *testing.T) { testCancel(t, c, s) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, c) })
	t.Run("Notify", func(t *testing.T) { testNotify(t, c, s) })
	t.Run("Introspection", func(t *testing.T) { testIntrospection(t, c) })
	t.Run("Metadata", func(t *testing.T) { testMetadata(t, c, s, srv.Addr()) })
	t.Run("Interceptors", func(t *testing.T) { testInterceptors(t, s) })
	t.Run("SizeLimits", func(t *testing.T) { testSizeLimits(t, s) })
	t.Run("MaxInFlight", func(t *testing.T) { testMaxInFlight(t, s) })
	t.Run("Timeouts", func(t *testing.T) { testTimeouts(t, s) })
	t.Run("NoServer", func(t *testing.T) { testNoServer(t, s) })
	t.Run("Credentials", func(t *testing.T) { testCredentials(t, s) })
	t.Run("Options", func(t *testing.T) { testOptions(t, s) })
	t.Run("Codec", func(t *testing.T) { testCodec(t, s) })
	t.Run("Close", func(t *testing.T) { testClose(t, s, srv.Addr()) })
	t.Run("Shutdown", func(t *testing.T) { testShutdown(t, s) })
}

// listen starts a server of the suite's registry, shut down when the test
// ends.
func (s *suite) listen(t *testing.T, opts ...transport.ServerOption) transport.Server {
	t.Helper()
	srv, err := s.tr.Listen(callCtx(t), s.reg, opts...)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown %s: %v", srv.Addr(), err)
			_ = srv.Close()
		}
	})
	return srv
}

// dial opens a client to addr, closed when the test ends.
func (s *suite) dial(t *testing.T, addr string, opts ...transport.ClientOption) transport.Client {
	t.Helper()
	c, err := s.tr.Dial(callCtx(t), addr, opts...)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close client: %v", err)
		}
	})
	return c
}

// callCtx bounds one call of the suite, so a broken transport fails the
// test instead of hanging it.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wait receives from ch within 10 seconds, or fails the test with what.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting: %s", what)
	}
	var zero T
	return zero
}

func noError(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func isErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: want an error matching %q, got %v", what, target, err)
	}
}

func equal(t *testing.T, want, got any, what string) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s: want %#v, got %#v", what, want, got)
	}
}

func contains(t *testing.T, s, sub, what string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s: %q does not contain %q", what, s, sub)
	}
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

func testRoundTrip(t *testing.T, c transport.Client) {
	var sum int
	noError(t, c.Call(callCtx(t), "add", []any{2, 3}, &sum), "add(2, 3)")
	equal(t, 5, sum, "add(2, 3)")
	var f int
	noError(t, c.Call(callCtx(t), "fib", []any{7}, &f), "fib(7)")
	equal(t, 13, f, "fib(7)")
	var big int64
	noError(t, c.Call(callCtx(t), "add", []any{1<<31 - 1, 1}, &big), "a sum beyond int32")
	equal(t, int64(1<<31), big, "a sum beyond int32")
	noError(t, c.Call(callCtx(t), "fib", []any{maxFib}, &big), "fib(92)")
	equal(t, int64(7540113804746346429), big, "fib(92)")
	noError(t, c.Call(callCtx(t), "nothing", nil, nil), "a method with no result")
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
			noError(t, c.Call(callCtx(t), "echo", []any{tc.in}, &got), "echo")
			if want, ok := tc.want.(time.Time); ok {
				gt, ok := got.(time.Time)
				if !ok || !want.Equal(gt) {
					t.Errorf("want %v, got %#v", want, got)
				}
				return
			}
			equal(t, tc.want, got, "echo")
		})
	}
}

func testReplyTypes(t *testing.T, c transport.Client, s *suite) {
	p := Point{X: 3, Y: -4, Label: "<&>", Tags: []string{"x", "y"}}
	var gotP Point
	noError(t, c.Call(callCtx(t), "echo_point", []any{p}, &gotP), "a struct")
	equal(t, p, gotP, "a struct")

	var pp *Point
	noError(t, c.Call(callCtx(t), "echo_point", []any{map[string]any{"x": 1}}, &pp), "into a pointer")
	if pp == nil || pp.X != 1 {
		t.Errorf("into a pointer: got %#v", pp)
	}

	var b []byte
	noError(t, c.Call(callCtx(t), "echo_bytes", []any{[]byte("bin\x00ary")}, &b), "bytes")
	equal(t, []byte("bin\x00ary"), b, "bytes")

	when := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	var tm time.Time
	noError(t, c.Call(callCtx(t), "echo_time", []any{when}, &tm), "a time")
	if !when.Equal(tm) {
		t.Errorf("a time: want %v, got %v", when, tm)
	}

	var ints []int
	noError(t, c.Call(callCtx(t), "echo", []any{[]int{5, 6}}, &ints), "a typed slice")
	equal(t, []int{5, 6}, ints, "a typed slice")

	var m map[string]int
	noError(t, c.Call(callCtx(t), "echo", []any{map[string]int{"a": 1}}, &m), "a typed map")
	equal(t, map[string]int{"a": 1}, m, "a typed map")

	var str string
	err := c.Call(callCtx(t), "add", []any{1, 2}, &str)
	if err == nil || !strings.Contains(err.Error(), "string") {
		t.Errorf("an int reply into a string: want an error naming the types, got %v", err)
	}
	var small int8
	err = c.Call(callCtx(t), "add", []any{100, 100}, &small)
	if err == nil || !strings.Contains(err.Error(), "overflows") {
		t.Errorf("200 into int8: want an overflow error, got %v", err)
	}
	noError(t, c.Call(callCtx(t), "add", []any{1, 2}, nil), "a nil reply discards the result")

	// A reply target that cannot be assigned is refused before the call
	// is sent: the method never runs.
	drain(s.notified)
	err = c.Call(callCtx(t), "record", []any{"must not run"}, str)
	if err == nil || !strings.Contains(err.Error(), "non-nil pointer") {
		t.Errorf("a non-pointer reply: want an error before sending, got %v", err)
	}
	noError(t, c.Call(callCtx(t), "record", []any{"runs"}, nil), "record")
	equal(t, "runs", wait(t, s.notified, "the call never ran"), "the first call that ran")
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
		{"too few args", "add", []any{1}, transport.ErrInvalidParams, transport.CodeInvalidParams, "2 arguments"},
		{"too many args", "add", []any{1, 2, 3}, transport.ErrInvalidParams, transport.CodeInvalidParams, "got 3"},
		{"wrong type", "add", []any{1, "two"}, transport.ErrInvalidParams, transport.CodeInvalidParams, "argument 2"},
		{"app invalid params", "fib", []any{-1}, transport.ErrInvalidParams, transport.CodeInvalidParams, "negative"},
		{"fib overflow", "fib", []any{maxFib + 1}, transport.ErrInvalidParams, transport.CodeInvalidParams, "overflows"},
		{"app error", "fail", nil, nil, transport.CodeApplication, errCustom.Error()},
		{"app code", "fail_code", nil, nil, 42, "the answer"},
		{"panic", "panic", nil, transport.ErrInternal, transport.CodeInternal, "panicked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out any
			err := c.Call(callCtx(t), tc.method, tc.args, &out)
			var re *transport.RemoteError
			if !errors.As(err, &re) {
				t.Fatalf("want *transport.RemoteError, got %T: %v", err, err)
			}
			equal(t, tc.code, re.Code, "fault code")
			contains(t, re.Message, tc.contains, "fault message")
			if tc.sentinel != nil {
				isErr(t, err, tc.sentinel, "sentinel")
			}
		})
	}
	var sum int
	noError(t, c.Call(callCtx(t), "add", []any{1, 1}, &sum), "the server still serves after faults")
	equal(t, 2, sum, "add(1, 1)")
}

func testDeadline(t *testing.T, c transport.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	var out string
	err := c.Call(ctx, "sleep", []any{10_000}, &out)
	isErr(t, err, transport.ErrTimeout, "a call past its deadline")
	isErr(t, err, context.DeadlineExceeded, "a call past its deadline")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the call took %v: it must end at its deadline, not the method's", d)
	}

	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	isErr(t, c.Call(expired, "add", []any{1, 2}, &out), transport.ErrTimeout, "a call whose deadline has passed is not sent")

	noError(t, c.Call(callCtx(t), "sleep", []any{1}, &out), "the client still works after a timeout")
	equal(t, "slept", out, "sleep(1)")
}

func testCancel(t *testing.T, c transport.Client, s *suite) {
	drain(s.started)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var out string
		done <- c.Call(ctx, "sleep", []any{10_000}, &out)
	}()
	wait(t, s.started, "the slow call never reached the server")
	cancel()
	isErr(t, wait(t, done, "Call did not return after its context was cancelled"), context.Canceled, "a cancelled call")

	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	var sum int
	isErr(t, c.Call(canceled, "add", []any{1, 2}, &sum), context.Canceled, "a call with a cancelled context")
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
				if err := c.Call(callCtx(t), "add", []any{w, i * 1000}, &sum); err != nil {
					errs <- err
					continue
				}
				if sum != w+i*1000 {
					errs <- fmt.Errorf("add(%d, %d) = %d: a reply went to the wrong caller", w, i*1000, sum)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testNotify checks Notify's guarantee: it returns once the other side
// has accepted the message, without waiting for the method, which then
// runs; the method's own faults are not reported.
func testNotify(t *testing.T, c transport.Client, s *suite) {
	drain(s.notified)
	noError(t, c.Notify(callCtx(t), "record", []any{"one-way hello"}), "Notify")
	equal(t, "one-way hello", wait(t, s.notified, "the one-way call never ran"), "what the one-way call recorded")

	// hold blocks until release: a Notify that waited for the method
	// would never return.
	s.holdUntilReleased()
	drain(s.started)
	noError(t, c.Notify(callCtx(t), "hold", []any{"n1"}), "Notify of a method that blocks")
	equal(t, "hold n1", wait(t, s.started, "the one-way call never started"), "the one-way call")
	s.releaseHeld()
	equal(t, "held n1", wait(t, s.notified, "the one-way call never finished"), "the one-way call")

	noError(t, c.Notify(callCtx(t), "fail", nil), "a method's fault is not the one-way caller's error")
	noError(t, c.Notify(callCtx(t), "no_such_method", nil), "nor is an unknown method")
	var sum int
	noError(t, c.Call(callCtx(t), "add", []any{2, 2}, &sum), "the client still works")
	equal(t, 4, sum, "add(2, 2)")
}

func testIntrospection(t *testing.T, c transport.Client) {
	var names []string
	noError(t, c.Call(callCtx(t), registry.ListMethods, nil, &names), registry.ListMethods)
	for _, want := range []string{"add", "fib", registry.Multicall} {
		if !slices.Contains(names, want) {
			t.Errorf("%s: %q missing from %v", registry.ListMethods, want, names)
		}
	}
	var help string
	noError(t, c.Call(callCtx(t), registry.MethodHelp, []any{"fib"}, &help), registry.MethodHelp)
	contains(t, help, "Fibonacci", registry.MethodHelp)

	var sig [][]string
	noError(t, c.Call(callCtx(t), registry.MethodSignature, []any{"add"}, &sig), registry.MethodSignature)
	equal(t, [][]string{{"int", "int", "int"}}, sig, registry.MethodSignature)

	var results []any
	calls := []any{
		map[string]any{"methodName": "add", "params": []any{2, 3}},
		map[string]any{"methodName": "fib", "params": []any{-1}},
		map[string]any{"methodName": "fib", "params": []any{7}},
	}
	noError(t, c.Call(callCtx(t), registry.Multicall, []any{calls}, &results), registry.Multicall)
	if len(results) != 3 {
		t.Fatalf("%s: want 3 results, got %#v", registry.Multicall, results)
	}
	equal(t, []any{int64(5)}, results[0], "multicall add")
	fault, ok := results[1].(map[string]any)
	if !ok {
		t.Fatalf("a failed multicall entry is a fault struct, got %#v", results[1])
	}
	equal(t, int64(transport.CodeInvalidParams), fault["faultCode"], "multicall fault code")
	equal(t, []any{int64(13)}, results[2], "multicall fib")
}

// testMetadata checks that a caller's metadata reach the function, by
// Call and by Notify, the same on every transport; that metadata the
// rules refuse never leave the client; and that the function knows its
// Peer's transport.
func testMetadata(t *testing.T, c transport.Client, s *suite, addr string) {
	sent := map[string]string{
		"x-request-id": "req-17",
		"tenant":       "acme",
		"traceparent":  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"note":         "héllo, wörld; a=b, \"quoted\"",
	}
	ctx := transport.AppendToOutgoing(callCtx(t), "X-Request-Id", "req-17", "tenant", "acme")
	ctx = transport.AppendToOutgoing(ctx, "traceparent", sent["traceparent"], "note", sent["note"])
	var got map[string]string
	noError(t, c.Call(ctx, "metadata", nil, &got), "a call with metadata")
	equal(t, sent, got, "the metadata the function reads")

	got = nil
	noError(t, c.Call(callCtx(t), "metadata", nil, &got), "a call without metadata")
	equal(t, 0, len(got), "no metadata")

	drain(s.notified)
	noError(t, c.Notify(transport.AppendToOutgoing(callCtx(t), "tenant", "one-way"), "record_metadata", []any{"tenant"}), "Notify with metadata")
	equal(t, "tenant=one-way", wait(t, s.notified, "the one-way call never ran"), "a one-way call's metadata")

	var peer string
	noError(t, c.Call(callCtx(t), "peer", nil, &peer), "peer")
	if want, _, _ := strings.Cut(addr, "://"); !strings.EqualFold(peer, want) {
		t.Errorf("Peer.Transport: want %q (the scheme of %s), got %q", want, addr, peer)
	}

	drain(s.notified)
	refused := []struct {
		name string
		ctx  context.Context
		is   error
	}{
		{"reserved", transport.AppendToOutgoing(callCtx(t), "content-type", "text/evil"), transport.ErrInvalidParams},
		{"authorization", transport.AppendToOutgoing(callCtx(t), "Authorization", "Basic Zm9vOmJhcg=="), transport.ErrInvalidParams},
		{"bad key", transport.AppendToOutgoing(callCtx(t), "two words", "x"), transport.ErrInvalidParams},
		{"bad value", transport.AppendToOutgoing(callCtx(t), "k", "a\r\nInjected: yes"), transport.ErrInvalidParams},
		{"odd pairs", transport.AppendToOutgoing(callCtx(t), "k"), transport.ErrInvalidParams},
		{"oversized", transport.AppendToOutgoing(callCtx(t), "big", strings.Repeat("v", transport.MaxMetadataSize)), transport.ErrTooLarge},
	}
	for _, tc := range refused {
		isErr(t, c.Call(tc.ctx, "record", []any{"must not run: " + tc.name}, nil), tc.is, "a call with "+tc.name+" metadata")
		isErr(t, c.Notify(tc.ctx, "record", []any{"must not run: " + tc.name}), tc.is, "a one-way call with "+tc.name+" metadata")
	}
	noError(t, c.Call(callCtx(t), "record", []any{"runs"}, nil), "record")
	equal(t, "runs", wait(t, s.notified, "the call never ran"), "the first call that ran")
}

// testInterceptors checks WithInterceptors on Dial and Listen: a client
// interceptor sees the call and adds metadata, a server interceptor sees
// the call, its transport and the metadata, and may answer it itself.
func testInterceptors(t *testing.T, s *suite) {
	var (
		mu      sync.Mutex
		clients []transport.Request
		servers []transport.Request
	)
	client := func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			mu.Lock()
			clients = append(clients, *req)
			mu.Unlock()
			return next(transport.AppendToOutgoing(ctx, "x-client-interceptor", req.Method), req)
		}
	}
	server := func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			mu.Lock()
			servers = append(servers, *req)
			mu.Unlock()
			if req.Method == "intercepted" {
				return "answered by " + transport.IncomingMetadata(ctx).Get("x-client-interceptor"), nil
			}
			return next(ctx, req)
		}
	}
	srv := s.listen(t, transport.WithInterceptors(server))
	c := s.dial(t, srv.Addr(), transport.WithInterceptors(client))
	var sum int
	noError(t, c.Call(callCtx(t), "add", []any{2, 3}, &sum), "add through interceptors")
	equal(t, 5, sum, "add(2, 3)")
	var out string
	noError(t, c.Call(callCtx(t), "intercepted", nil, &out), "a call a server interceptor answers")
	equal(t, "answered by intercepted", out, "the server interceptor's answer")

	scheme, _, _ := strings.Cut(srv.Addr(), "://")
	mu.Lock()
	defer mu.Unlock()
	if len(clients) != 2 || len(servers) != 2 {
		t.Fatalf("want 2 calls seen on each side, got %d client, %d server", len(clients), len(servers))
	}
	equal(t, "add", clients[0].Method, "the client's Request")
	equal(t, 2, len(clients[0].Args), "the client's Request's arguments")
	equal(t, strings.ToLower(scheme), clients[0].Transport, "the client's Request's transport")
	equal(t, "add", servers[0].Method, "the server's Request")
	equal(t, strings.ToLower(scheme), servers[0].Transport, "the server's Request's transport")
}

// testSizeLimits checks WithMaxMessageSize both ways on both sides: a
// request or reply beyond a limit is ErrTooLarge, and a request the
// client refuses never reaches the server.
func testSizeLimits(t *testing.T, s *suite) {
	const limit = 4096
	big := strings.Repeat("y", 2*limit)

	t.Run("client request", func(t *testing.T) {
		c := s.dial(t, s.listen(t).Addr(), transport.WithMaxMessageSize(limit))
		drain(s.notified)
		isErr(t, c.Call(callCtx(t), "record", []any{big}, nil), transport.ErrTooLarge, "a call beyond the client's limit")
		isErr(t, c.Notify(callCtx(t), "record", []any{big}), transport.ErrTooLarge, "a one-way message beyond the client's limit")
		noError(t, c.Call(callCtx(t), "record", []any{"small"}, nil), "a call within the limit")
		equal(t, "small", wait(t, s.notified, "the small call never ran"), "the calls that ran")
	})
	t.Run("client reply", func(t *testing.T) {
		c := s.dial(t, s.listen(t).Addr(), transport.WithMaxMessageSize(limit))
		var out string
		isErr(t, c.Call(callCtx(t), "repeat", []any{2 * limit}, &out), transport.ErrTooLarge, "a reply beyond the client's limit")
		noError(t, c.Call(callCtx(t), "repeat", []any{limit / 2}, &out), "a reply within the limit")
		equal(t, limit/2, len(out), "the reply's length")
	})
	t.Run("server request", func(t *testing.T) {
		c := s.dial(t, s.listen(t, transport.WithMaxMessageSize(limit)).Addr())
		drain(s.notified)
		isErr(t, c.Call(callCtx(t), "record", []any{big}, nil), transport.ErrTooLarge, "a call beyond the server's limit")
		err := c.Notify(callCtx(t), "record", []any{big})
		if s.tr.Queues {
			// The queue took it; the server refuses it when it comes.
			noError(t, err, "a one-way message the queue accepts")
		} else {
			isErr(t, err, transport.ErrTooLarge, "a one-way message beyond the server's limit")
		}
		noError(t, c.Call(callCtx(t), "record", []any{"small"}, nil), "the server still serves")
		equal(t, "small", wait(t, s.notified, "the small call never ran"), "the calls that ran")
	})
	t.Run("server reply", func(t *testing.T) {
		c := s.dial(t, s.listen(t, transport.WithMaxMessageSize(limit)).Addr())
		var out string
		err := c.Call(callCtx(t), "repeat", []any{2 * limit}, &out)
		isErr(t, err, transport.ErrTooLarge, "a reply beyond the server's limit")
		noError(t, c.Call(callCtx(t), "repeat", []any{limit / 2}, &out), "a reply within the limit")
	})
	t.Run("server multicall", func(t *testing.T) {
		// A multicall stops running calls once its results pass the
		// server's reply limit, and one of more calls than the
		// registry's limit runs none.
		c := s.dial(t, s.listen(t, transport.WithMaxMessageSize(limit)).Addr())
		drain(s.notified)
		var calls []any
		for i := range 10 {
			calls = append(calls,
				map[string]any{"methodName": "record", "params": []any{fmt.Sprint(i)}},
				map[string]any{"methodName": "repeat", "params": []any{limit / 4}})
		}
		isErr(t, c.Call(callCtx(t), registry.Multicall, []any{calls}, nil), transport.ErrTooLarge, "a multicall whose results pass the limit")
		if ran := len(s.notified); ran > 5 {
			t.Errorf("%d calls of the multicall ran; it should stop after its results pass the limit, at the 5th", ran)
		}
		drain(s.notified)
		many := make([]any, registry.DefaultMaxMulticall+1)
		for i := range many {
			many[i] = map[string]any{"methodName": "record", "params": []any{"many"}}
		}
		isErr(t, c.Call(callCtx(t), registry.Multicall, []any{many}, nil), transport.ErrTooLarge, "a multicall of too many calls")
		equal(t, 0, len(s.notified), "calls of the refused multicall that ran")
		var out []any
		noError(t, c.Call(callCtx(t), registry.Multicall, []any{calls[:4]}, &out), "a multicall within the limits")
		equal(t, 4, len(out), "its results")
	})
}

// testMaxInFlight checks WithMaxInFlight: no more calls run at once than
// the limit; the next ones get ErrBusy, or wait in the queue (Queues).
func testMaxInFlight(t *testing.T, s *suite) {
	c := s.dial(t, s.listen(t, transport.WithMaxInFlight(1)).Addr())
	s.holdUntilReleased()
	s.held.Reset()
	drain(s.started)
	drain(s.notified)
	first := make(chan error, 1)
	go func() { first <- c.Call(callCtx(t), "hold", []any{"a"}, nil) }()
	equal(t, "hold a", wait(t, s.started, "the first call never started"), "the first call")

	second := make(chan error, 1)
	go func() { second <- c.Call(callCtx(t), "hold", []any{"b"}, nil) }()
	if s.tr.Queues {
		select {
		case what := <-s.started:
			t.Errorf("%s started while the only slot was taken", what)
		case <-time.After(300 * time.Millisecond):
		}
		s.releaseHeld()
		noError(t, wait(t, first, "the first call never returned"), "the first call")
		noError(t, wait(t, second, "the queued call never returned"), "the queued call")
	} else {
		isErr(t, wait(t, second, "the second call never returned"), transport.ErrBusy, "a call beyond the limit")
		isErr(t, c.Notify(callCtx(t), "hold", []any{"c"}), transport.ErrBusy, "a one-way message beyond the limit")
		s.releaseHeld()
		noError(t, wait(t, first, "the first call never returned"), "the first call")
		noError(t, c.Call(callCtx(t), "add", []any{1, 2}, nil), "a call once the slot is free")
	}
	equal(t, 1, s.held.Most(), "the most calls running at once")
}

// testTimeouts checks the client's default timeout and the server's
// bound on a call's run time.
func testTimeouts(t *testing.T, s *suite) {
	srv := s.listen(t)
	t.Run("client", func(t *testing.T) {
		c := s.dial(t, srv.Addr(), transport.WithTimeout(200*time.Millisecond))
		start := time.Now()
		err := c.Call(context.Background(), "sleep", []any{10_000}, nil)
		isErr(t, err, transport.ErrTimeout, "a call without a deadline, past the client's timeout")
		isErr(t, err, context.DeadlineExceeded, "a call without a deadline, past the client's timeout")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the call took %v", d)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var out string
		noError(t, c.Call(ctx, "sleep", []any{400}, &out), "a call's own deadline wins over the client's timeout")
	})
	t.Run("server", func(t *testing.T) {
		c := s.dial(t, s.listen(t, transport.WithCallTimeout(200*time.Millisecond)).Addr())
		start := time.Now()
		err := c.Call(callCtx(t), "sleep", []any{10_000}, nil)
		isErr(t, err, transport.ErrTimeout, "a call that runs past the server's bound")
		var re *transport.RemoteError
		if errors.As(err, &re) {
			equal(t, transport.CodeTimeout, re.Code, "the server's timeout is a fault")
		} else {
			t.Errorf("want a *transport.RemoteError from the server, got %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the call took %v", d)
		}
	})
}

func testNoServer(t *testing.T, s *suite) {
	c, err := s.tr.Dial(callCtx(t), s.tr.NoServer)
	if err != nil {
		isErr(t, err, transport.ErrNoServer, "Dial of "+s.tr.NoServer)
		return
	}
	defer c.Close()
	start := time.Now()
	isErr(t, c.Call(callCtx(t), "add", []any{1, 2}, nil), transport.ErrNoServer, "a call with no server")
	isErr(t, c.Notify(callCtx(t), "record", []any{"x"}), transport.ErrNoServer, "a one-way message with no server")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("no server took %v to notice: it must be reported at once, not at a deadline", d)
	}
}

func testCredentials(t *testing.T, s *suite) {
	if s.tr.Secret == "" {
		t.Skip("the transport takes no credentials")
	}
	hidden := func(err error, what string) {
		t.Helper()
		if err != nil && strings.Contains(err.Error(), Password) {
			t.Errorf("%s: the password appears in the error: %v", what, err)
		}
	}
	c, err := s.tr.Dial(callCtx(t), s.tr.Secret)
	hidden(err, "Dial")
	if err != nil {
		return
	}
	defer c.Close()
	err = c.Call(callCtx(t), "add", []any{1, 2}, nil)
	if err == nil {
		t.Errorf("a call to %s succeeded", "Secret")
	}
	hidden(err, "Call")
	hidden(c.Notify(callCtx(t), "record", []any{"x"}), "Notify")
}

func testOptions(t *testing.T, s *suite) {
	if !s.tr.TLS {
		_, err := s.tr.Listen(callCtx(t), s.reg, transport.WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
		isErr(t, err, transport.ErrUnsupported, "Listen with a TLS configuration")
		_, err = s.tr.Dial(callCtx(t), s.tr.NoServer, transport.WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
		isErr(t, err, transport.ErrUnsupported, "Dial with a TLS configuration")
	}
	_, err := s.tr.Dial(callCtx(t), s.tr.NoServer, transport.WithMaxMessageSize(-1))
	if err == nil {
		t.Error("Dial with a negative size limit: want an error")
	}
	_, err = s.tr.Listen(callCtx(t), s.reg, transport.WithMaxInFlight(-1))
	if err == nil {
		t.Error("Listen with a negative WithMaxInFlight: want an error")
	}
}

// bogusCodec has a name no transport knows.
type bogusCodec struct{ transport.Codec }

func (bogusCodec) Name() string { return "no-such-codec" }

// testCodec checks transport.WithCodec: a codec of a name the transport
// has is used by the side it is given to; another name is refused.
func testCodec(t *testing.T, s *suite) {
	_, err := s.tr.Listen(callCtx(t), s.reg, transport.WithCodec(bogusCodec{}))
	isErr(t, err, transport.ErrUnsupported, "Listen with a codec of an unknown name")
	_, err = s.tr.Dial(callCtx(t), s.tr.NoServer, transport.WithCodec(bogusCodec{}))
	isErr(t, err, transport.ErrUnsupported, "Dial with a codec of an unknown name")
	if s.tr.Limited == nil {
		return
	}
	deep := []any{[]any{[]any{[]any{[]any{"x"}}}}}
	var out any
	c := s.dial(t, s.listen(t, transport.WithCodec(s.tr.Limited)).Addr())
	isErr(t, c.Call(callCtx(t), "echo", []any{deep}, &out), transport.ErrParse, "a request beyond the server codec's depth")
	noError(t, c.Call(callCtx(t), "echo", []any{[]any{"shallow"}}, &out), "a request within it")

	c = s.dial(t, s.listen(t).Addr(), transport.WithCodec(s.tr.Limited))
	isErr(t, c.Call(callCtx(t), "nest", []any{5}, &out), transport.ErrParse, "a reply beyond the client codec's depth")
	isErr(t, c.Call(callCtx(t), "echo", []any{deep}, &out), transport.ErrInvalidParams, "a request the client codec cannot encode")
	noError(t, c.Call(callCtx(t), "nest", []any{2}, &out), "a reply within it")
}

func testClose(t *testing.T, s *suite, addr string) {
	c, err := s.tr.Dial(callCtx(t), addr)
	noError(t, err, "dial")
	var sum int
	noError(t, c.Call(callCtx(t), "add", []any{1, 2}, &sum), "add(1, 2)")

	drain(s.started)
	inFlight := make(chan error, 1)
	go func() { inFlight <- c.Call(callCtx(t), "sleep", []any{10_000}, nil) }()
	wait(t, s.started, "the slow call never reached the server")
	noError(t, c.Close(), "Close")
	isErr(t, wait(t, inFlight, "Close did not end the call in flight"), transport.ErrClosed, "a call in flight at Close")
	noError(t, c.Close(), "Close is idempotent")
	isErr(t, c.Call(callCtx(t), "add", []any{1, 2}, &sum), transport.ErrClosed, "a call after Close")
	isErr(t, c.Notify(callCtx(t), "record", []any{"x"}), transport.ErrClosed, "a one-way message after Close")
}

func testShutdown(t *testing.T, s *suite) {
	srv, err := s.tr.Listen(callCtx(t), s.reg)
	noError(t, err, "listen")
	c := s.dial(t, srv.Addr())

	s.holdUntilReleased()
	drain(s.started)
	drain(s.notified)
	call := make(chan error, 1)
	var out string
	go func() { call <- c.Call(callCtx(t), "sleep", []any{300}, &out) }()
	equal(t, "sleep", wait(t, s.started, "the slow call never reached the server"), "the call")
	noError(t, c.Notify(callCtx(t), "hold", []any{"late"}), "Notify")
	equal(t, "hold late", wait(t, s.started, "the one-way call never started"), "the one-way call")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	noError(t, wait(t, call, "the call in flight never finished"), "Shutdown lets the call in flight finish")
	equal(t, "slept", out, "sleep(300)")
	select {
	case err := <-shut:
		t.Errorf("Shutdown returned (%v) while a one-way call was still running", err)
	case <-time.After(200 * time.Millisecond):
	}
	s.releaseHeld()
	noError(t, wait(t, shut, "Shutdown never returned"), "Shutdown")
	equal(t, "held late", wait(t, s.notified, "the one-way call never finished"), "the one-way call")
	noError(t, srv.Close(), "Close after Shutdown")
	noError(t, srv.Close(), "Close is idempotent")
}
