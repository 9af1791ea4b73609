package amqp

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/internal/benchload"
	"github.com/rpcwire/rpcwire/internal/rawecho"
	"github.com/rpcwire/rpcwire/transport"
)

// Benchmarks of a round trip through the broker, client and server in
// this process on separate connections, beside a raw amqp091-go echo RPC
// with the same concurrency and prefetch: the floor any AMQP RPC stands
// on. Compare ratios from one run (absolute numbers drift):
//
//	go test -run '^$' -bench 'RoundTrip|RawAMQPEcho' -benchtime 3s ./amqp

// benchPrefetch is the server prefetch (and worker count) of both.
const benchPrefetch = 64

var benchConcurrency = []int{1, 64}

// runConcurrent runs b.N calls of call on n goroutines and reports calls/s.
func runConcurrent(b *testing.B, n int, call func() error) {
	b.Helper()
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := call(); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
}

func BenchmarkRoundTrip(b *testing.B) {
	broker := brokerURL(b)
	for _, codec := range []string{"xml", "json", "text"} {
		b.Run(codec, func(b *testing.B) {
			q := testQueue(b, broker)
			p := strconv.Itoa(benchPrefetch)
			startServer(b, withParams(b, broker, "queue", q, "workers", p, "prefetch", p))
			c := dialClient(b, withParams(b, broker, "queue", q, "codec", codec))
			for _, n := range benchConcurrency {
				b.Run(strconv.Itoa(n), func(b *testing.B) {
					b.ReportAllocs()
					ctx := context.Background()
					runConcurrent(b, n, func() error {
						var sum int
						if err := c.Call(ctx, "fun_add", []any{2, 3}, &sum); err != nil {
							return err
						}
						if sum != 5 {
							return fmt.Errorf("fun_add(2, 3) = %d", sum)
						}
						return nil
					})
				})
			}
		})
	}
}

// newRawEcho starts the floor, internal/rawecho's minimal echo, on the
// broker.
func newRawEcho(b *testing.B, broker string) *rawecho.AMQP {
	e, err := rawecho.NewAMQP(broker, benchPrefetch)
	require.NoError(b, err)
	b.Cleanup(func() { _ = e.Close() })
	return e
}

func BenchmarkRawAMQPEcho(b *testing.B) {
	broker := brokerURL(b)
	r := newRawEcho(b, broker)
	body := []byte("2 3")
	for _, n := range benchConcurrency {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			runConcurrent(b, n, func() error {
				_, err := r.Call(context.Background(), body, "text/plain")
				return err
			})
		})
	}
}

// BenchmarkCodec is the codec share of a round trip: encode a fun_add(2, 3)
// call, decode it, encode the reply, decode it.
func BenchmarkCodec(b *testing.B) {
	for _, c := range []transport.Codec{xmlCodec, jsonCodec, TextCodec{}} {
		b.Run(c.Name(), func(b *testing.B) {
			b.ReportAllocs()
			var m transport.Message
			for b.Loop() {
				m.Reset()
				if err := c.EncodeCall(&m, "fun_add", []any{2, 3}); err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.DecodeCall(&m); err != nil {
					b.Fatal(err)
				}
				m.Reset()
				if err := c.EncodeReply(&m, int64(5)); err != nil {
					b.Fatal(err)
				}
				if _, err := c.DecodeReply(&m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVsRaw measures our round trip and the raw echo in alternating
// slices of the same run, so the machine's drift hits both alike, and
// reports both rates and their ratio (the target: ≥ 0.9):
//
//	go test -run '^$' -bench VsRaw -benchtime 20000x ./amqp
//
// BENCH_WORKERS=N sets our server's workers (default: the prefetch, 64).
func BenchmarkVsRaw(b *testing.B) {
	broker := brokerURL(b)
	raw := newRawEcho(b, broker)
	rawBody := []byte("2 3")
	workers := strconv.Itoa(benchPrefetch)
	if w := os.Getenv("BENCH_WORKERS"); w != "" {
		workers = w
	}
	for _, codec := range []string{"xml", "json", "text"} {
		b.Run(codec, func(b *testing.B) {
			q := testQueue(b, broker)
			p := strconv.Itoa(benchPrefetch)
			startServer(b, withParams(b, broker, "queue", q, "workers", workers, "prefetch", p))
			c := dialClient(b, withParams(b, broker, "queue", q, "codec", codec))
			ours := func() error {
				var sum int
				if err := c.Call(context.Background(), "fun_add", []any{2, 3}, &sum); err != nil {
					return err
				}
				if sum != 5 {
					return fmt.Errorf("fun_add(2, 3) = %d", sum)
				}
				return nil
			}
			echo := func() error { _, err := raw.Call(context.Background(), rawBody, "text/plain"); return err }
			for _, n := range benchConcurrency {
				b.Run(strconv.Itoa(n), func(b *testing.B) {
					const slices = 10
					per := max(b.N/slices, n)
					var tOurs, tRaw, cpuOurs, cpuRaw time.Duration
					run := func(f func() error, wall, cpu *time.Duration) {
						c0 := benchload.ProcessCPU()
						d, err := benchload.RunCalls(n, per, f)
						require.NoError(b, err)
						*wall += d
						*cpu += benchload.ProcessCPU() - c0
					}
					for i := range slices {
						if i%2 == 0 {
							run(echo, &tRaw, &cpuRaw)
							run(ours, &tOurs, &cpuOurs)
						} else {
							run(ours, &tOurs, &cpuOurs)
							run(echo, &tRaw, &cpuRaw)
						}
					}
					calls := float64(slices * per)
					b.ReportMetric(calls/tOurs.Seconds(), "calls/s")
					b.ReportMetric(calls/tRaw.Seconds(), "raw-calls/s")
					b.ReportMetric(tRaw.Seconds()/tOurs.Seconds(), "x-raw")
					// Client and server CPU of this process per call, both
					// sides: what we add over the raw library.
					b.ReportMetric(float64(cpuOurs.Microseconds())/calls, "cpu-µs/call")
					b.ReportMetric(float64(cpuRaw.Microseconds())/calls, "raw-cpu-µs/call")
				})
			}
		})
	}
}
