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

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/internal/benchload"
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

// rawEcho is the floor: a server that echoes each body to reply_to and
// acks, and a client with an exclusive reply queue and a pending map.
type rawEcho struct {
	srvConn, cliConn *amqp091.Connection
	cliCh            *amqp091.Channel
	replyQueue       string
	queue            string
	seq              atomic.Uint64
	mu               sync.Mutex
	pending          map[string]chan []byte
	wg               sync.WaitGroup
}

func newRawEcho(b *testing.B, broker, queue string) *rawEcho {
	r := &rawEcho{queue: queue, pending: map[string]chan []byte{}}
	var err error
	r.srvConn, err = amqp091.Dial(broker)
	require.NoError(b, err)
	sch, err := r.srvConn.Channel()
	require.NoError(b, err)
	require.NoError(b, sch.Qos(benchPrefetch, 0, false))
	_, err = sch.QueueDeclare(queue, false, false, false, false, nil)
	require.NoError(b, err)
	requests, err := sch.Consume(queue, "", false, false, false, false, nil)
	require.NoError(b, err)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for d := range requests {
			_ = sch.Publish("", d.ReplyTo, false, false, amqp091.Publishing{CorrelationId: d.CorrelationId, Body: d.Body})
			_ = d.Ack(false)
		}
	}()

	r.cliConn, err = amqp091.Dial(broker)
	require.NoError(b, err)
	r.cliCh, err = r.cliConn.Channel()
	require.NoError(b, err)
	rq, err := r.cliCh.QueueDeclare("", false, true, true, false, nil)
	require.NoError(b, err)
	r.replyQueue = rq.Name
	replies, err := r.cliCh.Consume(rq.Name, "", true, true, false, false, nil)
	require.NoError(b, err)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for d := range replies {
			r.mu.Lock()
			ch := r.pending[d.CorrelationId]
			delete(r.pending, d.CorrelationId)
			r.mu.Unlock()
			if ch != nil {
				ch <- d.Body
			}
		}
	}()
	b.Cleanup(func() {
		r.cliConn.Close()
		r.srvConn.Close()
		r.wg.Wait()
	})
	return r
}

func (r *rawEcho) call(body []byte) ([]byte, error) {
	id := strconv.FormatUint(r.seq.Add(1), 36)
	ch := make(chan []byte, 1)
	r.mu.Lock()
	r.pending[id] = ch
	r.mu.Unlock()
	err := r.cliCh.Publish("", r.queue, false, false, amqp091.Publishing{CorrelationId: id, ReplyTo: r.replyQueue, Body: body})
	if err != nil {
		return nil, err
	}
	select {
	case reply := <-ch:
		return reply, nil
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("no echo for %s", id)
	}
}

func BenchmarkRawAMQPEcho(b *testing.B) {
	broker := brokerURL(b)
	r := newRawEcho(b, broker, testQueue(b, broker))
	body := []byte("2 3")
	for _, n := range benchConcurrency {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			runConcurrent(b, n, func() error {
				_, err := r.call(body)
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
	raw := newRawEcho(b, broker, testQueue(b, broker))
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
			echo := func() error { _, err := raw.call(rawBody); return err }
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
