package main

import (
	"bytes"
	"context"
	"github.com/rpcwire/rpcwire/internal/logbuf"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rpcwire/rpcwire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestServeSeveralAndShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log logbuf.Buffer
	ready := make(chan []string, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "mem://server-test-a", "-listen", "mem://server-test-b"}, &log, ready)
	}()
	var addrs []string
	select {
	case addrs = <-ready:
	case code := <-done:
		t.Fatalf("server exited with %d: %s", code, log.String())
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	require.Len(t, addrs, 2)
	for _, addr := range addrs {
		c, err := rpcwire.Dial(ctx, addr)
		require.NoError(t, err)
		var n int
		require.NoError(t, c.Call(ctx, "fib", []any{7}, &n), addr)
		assert.Equal(t, 13, n)
		require.NoError(t, c.Close())
	}
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
	out := log.String()
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
