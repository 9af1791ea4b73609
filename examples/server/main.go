// Command server serves the article's functions, fun_add and fib, with
// introspection, on every URL given:
//
//	go run ./examples/server -listen http://127.0.0.1:8080/ -listen amqp://guest:guest@127.0.0.1:5672/
//
// One process serves the same registry on several transports at once. It
// logs one line per listener and shuts down gracefully on SIGINT or
// SIGTERM, finishing the calls in flight.
//
// Tracing follows the standard OpenTelemetry environment variables
// (OTEL_TRACES_EXPORTER=console prints spans on stderr, =otlp exports
// them, unset exports nothing; OTEL_SERVICE_NAME; see
// examples/internal/otelsetup); a caller's traceparent, as an HTTP header
// or an AMQP message header, is the parent of the server's span.
// -metrics ADDR serves the call metrics in the Prometheus text format at
// http://ADDR/metrics (rpc_server_call_duration_seconds by method,
// transport and outcome, and rpcwire_server_active_calls).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rpcwire/rpcwire"
	"github.com/rpcwire/rpcwire/amqp"
	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/examples/internal/otelsetup"
	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
)

const defaultListen = "http://127.0.0.1:8080/"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	os.Exit(code)
}

// urls collects repeated -listen flags.
type urls []string

func (u *urls) String() string     { return strings.Join(*u, ",") }
func (u *urls) Set(v string) error { *u = append(*u, v); return nil }

// run serves until ctx ends. ready, when not nil, receives the servers'
// addresses once all listen (for tests).
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- []string) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var listen urls
	fs.Var(&listen, "listen", "URL to serve on, repeatable (default "+defaultListen+"); schemes: "+strings.Join(rpcwire.Schemes(), ", "))
	grace := fs.Duration("shutdown-timeout", 15*time.Second, "how long shutdown waits for calls in flight")
	maxInFlight := fs.Int("max-inflight", 0, fmt.Sprintf("calls one listener runs at once (default: http and mem %d, more get a busy fault; amqp %d workers, more wait in the queue)",
		transport.DefaultMaxInFlight, amqp.DefaultWorkers))
	certFile := fs.String("tls-cert", "", "PEM certificate for https:// listeners (with -tls-key)")
	keyFile := fs.String("tls-key", "", "PEM private key for https:// listeners")
	caFile := fs.String("tls-ca", "", "PEM CA certificates to trust for amqps:// brokers (default: the system's)")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics, e.g. 127.0.0.1:9464")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "server: unexpected arguments %q (use -listen URL)\n", fs.Args())
		return 2
	}
	if len(listen) == 0 {
		listen = urls{defaultListen}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	reg := funcs.NewRegistry(registry.WithLogger(log))
	opts := []transport.ServerOption{transport.WithLogger(log)}
	if *maxInFlight != 0 {
		opts = append(opts, transport.WithMaxInFlight(*maxInFlight))
	}
	if *certFile != "" || *keyFile != "" || *caFile != "" {
		cfg, err := tlsConfig(*certFile, *keyFile, *caFile)
		if err != nil {
			log.Error("TLS", "err", err)
			return 2
		}
		opts = append(opts, transport.WithTLSConfig(cfg))
	}
	tel, err := otelsetup.New(ctx, otelsetup.Config{Service: "rpcwire-server", SpanOutput: stderr, Metrics: *metricsAddr != ""})
	if err != nil {
		log.Error("telemetry", "err", err)
		return 2
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), *grace)
		defer cancel()
		if err := tel.Shutdown(sctx); err != nil {
			log.Error("telemetry shutdown", "err", err)
		}
	}()
	opts = append(opts, tel.ServerOptions()...)
	if *metricsAddr != "" {
		stop, err := serveMetrics(*metricsAddr, tel.Metrics, log)
		if err != nil {
			log.Error("cannot serve metrics", "err", err)
			return 1
		}
		defer stop()
	}

	var servers []transport.Server
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), *grace)
		defer cancel()
		for _, s := range servers {
			if err := s.Shutdown(sctx); err != nil {
				log.Error("shutdown", "addr", s.Addr(), "err", err)
				s.Close()
			}
		}
		if len(servers) > 0 {
			log.Info("stopped")
		}
	}()
	var addrs []string
	for _, raw := range listen {
		s, err := rpcwire.Listen(ctx, withDefaults(raw), reg, opts...)
		if err != nil {
			log.Error("cannot listen", "err", err)
			return 1
		}
		servers = append(servers, s)
		addrs = append(addrs, s.Addr())
		log.Info("listening", "addr", s.Addr(), "methods", strings.Join(reg.Methods(), ","))
	}
	if ready != nil {
		ready <- addrs
	}
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), context.Canceled) {
		log.Info("shutting down", "cause", context.Cause(ctx))
	} else {
		log.Info("shutting down")
	}
	return 0
}

// withDefaults makes fib the default method of AMQP's text codec, so the
// article's unchanged pika client (whose body is just "7") gets fib(7).
func withDefaults(raw string) string {
	u, err := transport.ParseURL(raw)
	if err != nil || (u.Scheme != "amqp" && u.Scheme != "amqps") {
		return raw // Listen reports a bad URL
	}
	q := u.Query()
	if q.Has("method") {
		return raw
	}
	q.Set("method", "fib")
	u.RawQuery = q.Encode()
	return u.String()
}

// tlsConfig is the TLS setup of every listener: the certificate https://
// serves and the CAs amqps:// trusts.
func tlsConfig(certFile, keyFile, caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if certFile != "" || keyFile != "" {
		if certFile == "" || keyFile == "" {
			return nil, errors.New("-tls-cert and -tls-key go together")
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificates in it", caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// serveMetrics serves h at http://addr/metrics (404 elsewhere) until the
// returned func stops it.
func serveMetrics(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		<-done
	}, nil
}
