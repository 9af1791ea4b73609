package rpcwire_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpcwire/rpcwire"
	"github.com/rpcwire/rpcwire/examples/funcs"
)

// benchInFlight are the numbers of calls in flight each transport is
// measured at: one caller waiting for each reply, and many sharing a client.
var benchInFlight = []int{1, 64}

// BenchmarkTransports measures a fun_add(2, 3) round trip over each
// transport of the default table, server and client in this process, at 1
// and 64 calls in flight on one client. Schemes this build lacks are
// skipped; amqp needs RabbitMQ at $AMQP_URL (default 127.0.0.1:5672) and
// is skipped without it unless CI is set.
//
//	go test -run '^$' -bench Transports -benchmem -count 6 . | tee new.txt
func BenchmarkTransports(b *testing.B) {
	reg := funcs.NewRegistry()
	for _, scheme := range []string{"mem", "http", "amqp"} {
		b.Run(scheme, func(b *testing.B) {
			if !slices.Contains(rpcwire.Schemes(), scheme) {
				b.Skipf("no %s:// transport in this build (schemes: %v)", scheme, rpcwire.Schemes())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			srv, err := rpcwire.Listen(ctx, benchListenURL(b, scheme), reg)
			if err != nil {
				b.Fatalf("listen: %v", err)
			}
			defer func() {
				sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer scancel()
				if err := srv.Shutdown(sctx); err != nil {
					b.Errorf("shutdown: %v", err)
				}
			}()
			c, err := rpcwire.Dial(ctx, srv.Addr())
			if err != nil {
				b.Fatalf("dial %s: %v", srv.Addr(), err)
			}
			defer c.Close()
			args := []any{2, 3}
			call := func() error {
				var sum int
				if err := c.Call(ctx, "fun_add", args, &sum); err != nil {
					return err
				}
				if sum != 5 {
					return fmt.Errorf("fun_add(2, 3) = %d", sum)
				}
				return nil
			}
			if err := call(); err != nil { // connect before the clock starts
				b.Fatalf("first call: %v", err)
			}
			for _, n := range benchInFlight {
				b.Run(fmt.Sprintf("inflight=%d", n), func(b *testing.B) {
					b.ReportAllocs()
					inFlight(b, n, call)
				})
			}
		})
	}
}

// inFlight makes b.N calls from n goroutines, so n calls are in flight at
// once, and reports the throughput.
func inFlight(b *testing.B, n int, call func() error) {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		first atomic.Pointer[error]
	)
	b.ResetTimer()
	for range n {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := call(); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := first.Load(); err != nil {
		b.Fatal(*err)
	}
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "calls/s")
	}
}

// benchListenURL is where a benchmark server of scheme listens: a free
// port, a mem name or an auto-deleted AMQP queue of its own.
func benchListenURL(b *testing.B, scheme string) string {
	var r [6]byte
	_, _ = rand.Read(r[:])
	unique := "rpcwire-bench-" + hex.EncodeToString(r[:])
	switch scheme {
	case "mem":
		return "mem://" + unique
	case "amqp":
		raw := os.Getenv("AMQP_URL")
		if raw == "" {
			raw = "amqp://guest:guest@127.0.0.1:5672/"
		}
		u, err := url.Parse(raw)
		if err != nil {
			b.Fatalf("AMQP_URL: %v", err)
		}
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "5672")
		}
		conn, err := net.DialTimeout("tcp", host, 2*time.Second)
		if err != nil {
			if os.Getenv("CI") != "" {
				b.Fatalf("CI is set but RabbitMQ is unreachable at %s: %v", u.Redacted(), err)
			}
			b.Skipf("RabbitMQ unreachable at %s (%v); start it with rabbitmq-server -detached", u.Redacted(), err)
		}
		_ = conn.Close()
		q := u.Query()
		q.Set("queue", unique)
		q.Set("auto_delete", "true")
		u.RawQuery = q.Encode()
		return u.String()
	}
	return scheme + "://127.0.0.1:0/"
}
