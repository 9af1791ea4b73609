package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rpcwire/rpcwire/internal/logbuf"
	"github.com/rpcwire/rpcwire/transport"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rpcwire/rpcwire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serving is the command running in the background, as a test drives it.
type serving struct {
	addrs []string
	log   *logbuf.Buffer
	stop  func() int // cancels the command and returns its exit code
}

// serve runs the command with args until stop, once it listens.
func serve(t *testing.T, args ...string) serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := serving{log: &logbuf.Buffer{}}
	ready := make(chan []string, 1)
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, s.log, ready) }()
	select {
	case s.addrs = <-ready:
	case code := <-done:
		t.Fatalf("server exited with %d: %s", code, s.log.String())
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	s.stop = func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(10 * time.Second):
			t.Fatal("server did not stop")
			return -1
		}
	}
	return s
}

// fib7 calls fib(7) at addr and checks the answer.
func fib7(t *testing.T, addr string, opts ...transport.ClientOption) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rpcwire.Dial(ctx, addr, opts...)
	require.NoError(t, err)
	defer c.Close()
	var n int
	require.NoError(t, c.Call(ctx, "fib", []any{7}, &n), addr)
	assert.Equal(t, 13, n)
}

func TestServeSeveralAndShutdown(t *testing.T) {
	s := serve(t, "-listen", "mem://server-test-a", "-listen", "mem://server-test-b")
	require.Len(t, s.addrs, 2)
	for _, addr := range s.addrs {
		fib7(t, addr)
	}
	assert.Equal(t, 0, s.stop())
	out := s.log.String()
	assert.Equal(t, 2, bytes.Count([]byte(out), []byte("msg=listening")), out)
	assert.Contains(t, out, "stopped")
}

func TestBadListen(t *testing.T) {
	var log logbuf.Buffer
	code := run(context.Background(), []string{"-listen", "gopher://x"}, &log, nil)
	assert.Equal(t, 1, code)
	assert.Contains(t, log.String(), "known schemes")
	assert.Equal(t, 2, run(context.Background(), []string{"extra"}, &log, nil))
}

func TestWithDefaults(t *testing.T) {
	assert.Equal(t, "http://x/", withDefaults("http://x/"))
	assert.Equal(t, "amqp://h/?method=fib", withDefaults("amqp://h/"))
	assert.Equal(t, "amqp://h/?method=fib&queue=q", withDefaults("amqp://h/?queue=q"))
	assert.Equal(t, "amqp://h/?method=fun_add", withDefaults("amqp://h/?method=fun_add"))
}
