package xmlrpc_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/internal/benchload"
	"github.com/rpcwire/rpcwire/internal/rawecho"
	"github.com/rpcwire/rpcwire/xmlrpc"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

// inFlights are the sub-benchmarks: calls kept in flight at once.
var inFlights = []int{1, 64}

// runInFlight runs b.N calls on n goroutines and reports calls/s.
func runInFlight(b *testing.B, n int, call func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := benchload.RunCalls(n, b.N, call); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// ourCall starts an XML-RPC server serving funcs and returns a function
// that calls fun_add(2, 3) on it through Dial.
func ourCall(b *testing.B) func() error {
	srv, err := xmlrpc.Listen(context.Background(), &url.URL{Scheme: "http", Host: "127.0.0.1:0", Path: "/"}, funcs.NewRegistry())
	require.NoError(b, err)
	b.Cleanup(func() { _ = srv.Close() })
	u, err := url.Parse(srv.Addr())
	require.NoError(b, err)
	c, err := xmlrpc.Dial(context.Background(), u)
	require.NoError(b, err)
	b.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	args := []any{2, 3}
	return func() error {
		var sum int
		return c.Call(ctx, "fun_add", args, &sum)
	}
}

// rawCall starts the floor, internal/rawecho's minimal net/http echo,
// and returns a function posting the same fun_add body to it.
func rawCall(b *testing.B) func() error {
	e, err := rawecho.NewHTTP(512)
	require.NoError(b, err)
	b.Cleanup(func() { _ = e.Close(context.Background()) })
	body, err := xmlcodec.Codec{}.AppendCall(nil, "fun_add", []any{2, 3})
	require.NoError(b, err)
	ct := []string{"text/xml"}
	ctx := context.Background()
	return func() error {
		_, err := e.Call(ctx, nil, body, ct)
		return err
	}
}

// BenchmarkRoundTrip measures fun_add(2, 3) through Dial and Listen on
// 127.0.0.1, client and server in this process. Compare with
// BenchmarkRawHTTPEcho from the same run, or read BenchmarkVersusRaw.
func BenchmarkRoundTrip(b *testing.B) {
	call := ourCall(b)
	for _, n := range inFlights {
		b.Run(strconv.Itoa(n), func(b *testing.B) { runInFlight(b, n, call) })
	}
}

// BenchmarkRawHTTPEcho is the baseline: plain net/http posting the same
// fun_add body to a handler that echoes it.
func BenchmarkRawHTTPEcho(b *testing.B) {
	call := rawCall(b)
	for _, n := range inFlights {
		b.Run(strconv.Itoa(n), func(b *testing.B) { runInFlight(b, n, call) })
	}
}

// BenchmarkVersusRaw alternates rounds of XML-RPC calls and raw echo
// posts, so both see the same machine load, and reports the ratio of
// their rates (xmlrpc/raw; above 1 means XML-RPC is faster) and the CPU
// time per call of each (client and server together, from getrusage),
// whose ratio other processes disturb least. On a shared, noisy machine
// these ratios are the numbers to read.
func BenchmarkVersusRaw(b *testing.B) {
	ours, raw := ourCall(b), rawCall(b)
	for _, n := range inFlights {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			round := max(200, 20*n) // long enough that ramp-up and ramp-down matter little
			var tOurs, tRaw, cpuOurs, cpuRaw time.Duration
			measure := func(k int, call func() error, wall, cpu *time.Duration) {
				c0 := benchload.ProcessCPU()
				d, err := benchload.RunCalls(n, k, call)
				require.NoError(b, err)
				*wall += d
				*cpu += benchload.ProcessCPU() - c0
			}
			for done := 0; done < b.N; done += round {
				k := min(round, b.N-done)
				measure(k, ours, &tOurs, &cpuOurs)
				measure(k, raw, &tRaw, &cpuRaw)
			}
			b.ReportMetric(float64(b.N)/tOurs.Seconds(), "xmlrpc-calls/s")
			b.ReportMetric(float64(b.N)/tRaw.Seconds(), "raw-calls/s")
			b.ReportMetric(tRaw.Seconds()/tOurs.Seconds(), "ratio")
			b.ReportMetric(float64(cpuOurs.Microseconds())/float64(b.N), "xmlrpc-cpu-µs/call")
			b.ReportMetric(float64(cpuRaw.Microseconds())/float64(b.N), "raw-cpu-µs/call")
			b.ReportMetric(cpuRaw.Seconds()/cpuOurs.Seconds(), "cpu-ratio")
		})
	}
}
