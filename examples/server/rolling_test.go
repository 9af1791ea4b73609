package main

// Rolling restarts (issue 6, item 2): the server binary is built once and
// run as real processes that get SIGTERM while an in-process client keeps
// calling them.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire"
	"github.com/rpcwire/rpcwire/internal/logbuf"
	"github.com/rpcwire/rpcwire/internal/testenv"
	"github.com/rpcwire/rpcwire/transport"
)

// buildServer builds this command into a temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "server")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// proc is one running server process.
type proc struct {
	cmd    *exec.Cmd
	log    *logbuf.Buffer
	exited chan struct{}
	err    error // Wait's result, set before exited closes
}

// start runs the server binary with args and waits until it logs that it
// listens. The process is killed when the test ends, if still running.
func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), log: &logbuf.Buffer{}, exited: make(chan struct{})}
	p.cmd.Stderr = p.log
	p.cmd.Stdout = p.log
	require.NoError(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.log.String(), "msg=listening") {
		select {
		case <-p.exited:
			t.Fatalf("server exited before listening: %v\n%s", p.err, p.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start listening:\n%s", p.log.String())
		}
	}
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	start := time.Now()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
		t.Logf("server exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not exit after SIGTERM:\n%s", p.log.String())
	}
	require.NoError(t, p.err, "exit status after SIGTERM:\n%s", p.log.String())
	assert.Contains(t, p.log.String(), "msg=stopped")
}

// load calls fib and fun_add from a few goroutines until stopped, and
// sorts the outcomes.
type load struct {
	ok        atomic.Int64
	noServer  atomic.Int64 // ErrNoServer: nothing listened (allowed in a gap)
	spanned   atomic.Int64 // calls that began before a SIGTERM and succeeded after it
	mu        sync.Mutex
	failures  []error
	sigterm   atomic.Int64 // UnixNano of the last SIGTERM sent
	stopLoad  chan struct{}
	wg        sync.WaitGroup
	gapAllows bool
}

func startLoad(c transport.Client, workers int, gapAllows bool) *load {
	l := &load{stopLoad: make(chan struct{}), gapAllows: gapAllows}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; i < 1_000_000; i++ { // bounded; stop ends it long before
				select {
				case <-l.stopLoad:
					return
				default:
				}
				began := time.Now().UnixNano()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				var got, want int
				var err error
				if i%2 == 0 {
					err, want = c.Call(ctx, "fib", []any{20}, &got), 6765
				} else {
					err, want = c.Call(ctx, "fun_add", []any{w, i}, &got), w+i
				}
				cancel()
				switch {
				case err == nil && got == want:
					l.ok.Add(1)
					if s := l.sigterm.Load(); s != 0 && began < s {
						l.spanned.Add(1)
					}
				case err == nil:
					l.fail(fmt.Errorf("wrong result %d, want %d", got, want))
				case l.gapAllows && errors.Is(err, transport.ErrNoServer):
					l.noServer.Add(1)
					time.Sleep(5 * time.Millisecond) // no busy loop while the server is down
				default:
					l.fail(err)
				}
			}
		}()
	}
	return l
}

func (l *load) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures = append(l.failures, err)
}

func (l *load) stop() {
	close(l.stopLoad)
	l.wg.Wait()
}

// settle lets the load run for d and checks that calls succeed meanwhile.
func (l *load) settle(t *testing.T, d time.Duration) {
	t.Helper()
	before := l.ok.Load()
	time.Sleep(d)
	require.Greater(t, l.ok.Load(), before, "calls succeed")
}

// TestRollingRestartAMQP runs two server processes on one queue under
// steady load and restarts each in turn with SIGTERM. Graceful shutdown
// stops consuming, finishes, answers and acks the calls it holds, and the
// other server takes the queue meanwhile: no call may fail.
func TestRollingRestartAMQP(t *testing.T) {
	t.Parallel()
	u, _, _ := queueURL(t, "rpc_rolling_")
	bin := buildServer(t)
	listen := []string{"-listen", u.String(), "-shutdown-timeout", "20s"}

	servers := []*proc{start(t, bin, listen...), start(t, bin, listen...)}
	c, err := rpcwire.Dial(context.Background(), u.String())
	require.NoError(t, err)
	defer c.Close()
	l := startLoad(c, 8, false)
	stopped := false
	defer func() {
		if !stopped {
			l.stop()
		}
	}()
	l.settle(t, 300*time.Millisecond)
	for i := range servers {
		l.sigterm.Store(time.Now().UnixNano())
		servers[i].stop(t)
		l.settle(t, 200*time.Millisecond) // the other server alone
		servers[i] = start(t, bin, listen...)
		l.settle(t, 300*time.Millisecond)
	}
	l.stop()
	stopped = true
	for _, p := range servers {
		p.stop(t)
		assert.NotContains(t, p.log.String(), ":"+mustPassword(t, u)+"@", "the broker password is not logged")
	}
	l.report(t)
}

// report logs the outcome and fails the test for every failed call.
func (l *load) report(t *testing.T) {
	t.Helper()
	t.Logf("%d calls succeeded (%d of them began before a SIGTERM), %d got ErrNoServer while nothing listened, %d failed otherwise",
		l.ok.Load(), l.spanned.Load(), l.noServer.Load(), len(l.failures))
	for i, err := range l.failures {
		if i < 5 {
			t.Errorf("call failed: %v", err)
		}
	}
	assert.Empty(t, l.failures)
}

func mustPassword(t *testing.T, u *url.URL) string {
	t.Helper()
	p, ok := u.User.Password()
	require.True(t, ok, "the broker URL has a password")
	return p
}

// queueURL returns the test broker's URL with a queue of its own, named
// prefix and random hex, which is deleted when the test ends; and the
// broker's URL and the queue.
func queueURL(t *testing.T, prefix string) (u *url.URL, broker, queue string) {
	t.Helper()
	broker = testenv.URL(t)
	queue = prefix + randomHex(t)
	t.Cleanup(func() { deleteQueue(t, broker, queue) })
	u, err := url.Parse(broker)
	require.NoError(t, err)
	q := u.Query()
	q.Set("queue", queue)
	u.RawQuery = q.Encode()
	return u, broker, queue
}

func randomHex(t *testing.T) string {
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

func deleteQueue(t *testing.T, broker, queue string) {
	conn, err := amqp091.Dial(broker)
	if err != nil {
		t.Logf("delete queue %s: %v", queue, err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return
	}
	_, _ = ch.QueueDelete(queue, false, false, false)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// TestRestartHTTP restarts one HTTP server process under load. What is
// guaranteed: the calls in flight when SIGTERM arrives finish and their
// replies reach the callers before the process exits; calls made while no
// process listens fail with ErrNoServer (connection refused) at once; no
// call fails any other way, and service resumes when the process is back.
// The listen URL's credentials require basic auth, and never reach the log.
func TestRestartHTTP(t *testing.T) {
	t.Parallel()
	const password = "R0lling-Pa55"
	bin := buildServer(t)
	host := freePort(t)
	listen := []string{"-listen", "http://alice:" + password + "@" + host + "/", "-shutdown-timeout", "20s"}
	p := start(t, bin, listen...)
	c, err := rpcwire.Dial(context.Background(), "http://alice:"+password+"@"+host+"/")
	require.NoError(t, err)
	defer c.Close()
	l := startLoad(c, 16, true)
	stopped := false
	defer func() {
		if !stopped {
			l.stop()
		}
	}()
	l.settle(t, 300*time.Millisecond)
	for range 2 {
		l.sigterm.Store(time.Now().UnixNano())
		p.stop(t)
		assert.NotContains(t, p.log.String(), password)
		time.Sleep(100 * time.Millisecond) // the gap: nothing listens
		p = start(t, bin, listen...)
		l.settle(t, 300*time.Millisecond)
	}
	l.stop()
	stopped = true
	p.stop(t)
	assert.NotContains(t, p.log.String(), password)

	l.report(t)
	assert.Positive(t, l.noServer.Load(), "calls in the gap saw ErrNoServer")
}
