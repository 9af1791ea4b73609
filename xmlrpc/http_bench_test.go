package xmlrpc_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/xmlrpc"
)

// inFlights are the sub-benchmarks: calls kept in flight at once.
var inFlights = []int{1, 64}

// runInFlight runs b.N calls on n goroutines and reports calls/s.
func runInFlight(b *testing.B, n int, call func() error) {
	b.ReportAllocs()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, n)
	)
	b.ResetTimer()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := call(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkRoundTrip measures fun_add(2, 3) through Dial and Listen on
// 127.0.0.1, client and server in this process. Compare with
// BenchmarkRawHTTPEcho from the same run.
func BenchmarkRoundTrip(b *testing.B) {
	srv, err := xmlrpc.Listen(context.Background(), &url.URL{Scheme: "http", Host: "127.0.0.1:0", Path: "/"}, funcs.NewRegistry())
	require.NoError(b, err)
	defer srv.Close()
	u, err := url.Parse(srv.Addr())
	require.NoError(b, err)
	c, err := xmlrpc.Dial(context.Background(), u)
	require.NoError(b, err)
	defer c.Close()
	ctx := context.Background()
	args := []any{2, 3}
	for _, n := range inFlights {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			runInFlight(b, n, func() error {
				var sum int
				return c.Call(ctx, "fun_add", args, &sum)
			})
		})
	}
}

// BenchmarkRawHTTPEcho is the baseline: plain net/http posting the same
// fun_add body to a handler that echoes it, with the same idle pool.
func BenchmarkRawHTTPEcho(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	hs := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write(body)
		}),
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Serve(ln) }()
	defer func() { _ = hs.Close(); <-done }()

	tr := &http.Transport{MaxIdleConnsPerHost: 512, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	target := "http://" + ln.Addr().String() + "/"
	body := []byte(addCall)
	ctx := context.Background()
	for _, n := range inFlights {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			runInFlight(b, n, func() error {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
				if err != nil {
					return err
				}
				req.Header.Set("Content-Type", "text/xml")
				resp, err := hc.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				_, err = io.ReadAll(resp.Body)
				return err
			})
		})
	}
}
