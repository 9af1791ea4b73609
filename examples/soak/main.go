// Command soak makes many calls over every transport in one process and
// checks that memory and goroutines stay flat:
//
//	go run ./examples/soak -calls 1000000
//
// It serves examples/funcs on mem://, http://127.0.0.1:0/ and, when the
// broker answers, amqp:// (a queue of its own), and splits the calls evenly
// over them, each transport loaded by its own workers (fib and fun_add,
// checked). Every -interval it prints the heap in use and the goroutine
// count. After a warm-up (the first tenth of the calls) it takes a
// baseline; it fails (exit 1) when a sample after a GC exceeds the
// baseline by more than -max-heap-growth or -max-goroutine-growth, when
// any call fails, when goroutines are left once everything is closed, or
// when the whole run takes longer than -max-time.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/rpcwire/rpcwire"
	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/transport"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is what the flags say.
type config struct {
	calls          int64
	transports     []string
	workers        int
	interval       time.Duration
	maxTime        time.Duration
	maxHeapGrowth  uint64 // bytes
	maxGoroutines  int
	amqpURL        string
	requireBroker  bool
	callTimeout    time.Duration
	heapGrowthFrac float64
}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	defAMQP := os.Getenv("AMQP_URL")
	if defAMQP == "" {
		defAMQP = "amqp://guest:guest@127.0.0.1:5672/"
	}
	fs.Int64Var(&c.calls, "calls", 1_000_000, "calls in all, split evenly over the transports")
	transports := fs.String("transports", "mem,http,amqp", "comma-separated transports: mem, http, amqp")
	fs.IntVar(&c.workers, "workers", 16, "calls in flight per transport")
	fs.DurationVar(&c.interval, "interval", 2*time.Second, "how often to print heap and goroutines")
	fs.DurationVar(&c.maxTime, "max-time", 5*time.Minute, "hard limit of the whole run")
	heapMB := fs.Uint64("max-heap-growth", 32, "MB of heap in use allowed above the baseline (plus -max-heap-growth-frac of it)")
	fs.Float64Var(&c.heapGrowthFrac, "max-heap-growth-frac", 0.5, "fraction of the baseline heap allowed on top of -max-heap-growth")
	fs.IntVar(&c.maxGoroutines, "max-goroutine-growth", 32, "goroutines allowed above the baseline")
	fs.StringVar(&c.amqpURL, "amqp-url", defAMQP, "RabbitMQ broker (env AMQP_URL)")
	fs.BoolVar(&c.requireBroker, "require-broker", os.Getenv("CI") != "", "fail instead of skipping amqp when the broker is unreachable (default: env CI set)")
	fs.DurationVar(&c.callTimeout, "call-timeout", 30*time.Second, "deadline of each call")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.calls < 1 || c.workers < 1 || c.interval <= 0 || c.maxTime <= 0 {
		return nil, errors.New("-calls, -workers, -interval and -max-time must be positive")
	}
	c.maxHeapGrowth = *heapMB << 20
	for _, name := range strings.Split(*transports, ",") {
		switch name = strings.TrimSpace(name); name {
		case "mem", "http", "amqp":
			c.transports = append(c.transports, name)
		case "":
		default:
			return nil, fmt.Errorf("unknown transport %q (want mem, http, amqp)", name)
		}
	}
	if len(c.transports) == 0 {
		return nil, errors.New("no transports")
	}
	return c, nil
}

// target is one transport under load: its server, a client and a share of
// the calls.
type target struct {
	name   string
	srv    transport.Server
	client transport.Client
	left   atomic.Int64 // calls not yet started
	done   atomic.Int64
	failed atomic.Int64
	first  atomic.Value // first error, for the report
	clean  func()       // deletes what the target left on the broker
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parse(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "soak:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.maxTime)
	defer cancel()
	startGoroutines := runtime.NumGoroutine()

	targets, err := setup(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "soak:", err)
		closeAll(targets)
		return 1
	}
	var names []string
	for i, tg := range targets {
		share := cfg.calls / int64(len(targets))
		if i == 0 {
			share += cfg.calls % int64(len(targets))
		}
		tg.left.Store(share)
		names = append(names, tg.name)
	}
	fmt.Fprintf(stdout, "soak: %d calls over %s, %d in flight each, at most %v\n",
		cfg.calls, strings.Join(names, ","), cfg.workers, cfg.maxTime)

	var wg sync.WaitGroup
	for _, tg := range targets {
		for w := range cfg.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				load(ctx, cfg, tg, w)
			}()
		}
	}
	loadDone := make(chan struct{})
	go func() { wg.Wait(); close(loadDone) }()

	ok := watch(ctx, cfg, targets, stdout, loadDone)
	<-loadDone
	if ctx.Err() != nil {
		fmt.Fprintf(stdout, "FAIL: stopped before the end: %v\n", context.Cause(ctx))
		ok = false
	}
	for _, tg := range targets {
		fmt.Fprintf(stdout, "%-5s %9d calls, %d failed", tg.name, tg.done.Load(), tg.failed.Load())
		if err, _ := tg.first.Load().(error); err != nil {
			fmt.Fprintf(stdout, " (first: %v)", err)
			ok = false
		}
		fmt.Fprintln(stdout)
	}
	closeAll(targets)

	// Everything is closed: the goroutines must be back to the start.
	var left int
	for range 50 {
		if left = runtime.NumGoroutine(); left <= startGoroutines+2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(stdout, "after close: %d goroutines (%d at start)\n", left, startGoroutines)
	if left > startGoroutines+2 {
		fmt.Fprintln(stdout, "FAIL: goroutines left after closing every client and server")
		ok = false
	}
	if !ok {
		return 1
	}
	fmt.Fprintln(stdout, "PASS")
	return 0
}

// setup starts a server and a client for each transport.
func setup(ctx context.Context, cfg *config, stderr io.Writer) ([]*target, error) {
	reg := funcs.NewRegistry()
	var targets []*target
	for _, name := range cfg.transports {
		tg := &target{name: name}
		var listen, dial string
		switch name {
		case "mem":
			listen = "mem://soak-" + randomHex()
		case "http":
			listen = "http://127.0.0.1:0/"
		case "amqp":
			u, err := url.Parse(cfg.amqpURL)
			if err != nil {
				return targets, fmt.Errorf("-amqp-url: %w", err)
			}
			if !reachable(u) {
				if cfg.requireBroker {
					return targets, fmt.Errorf("RabbitMQ is not reachable at %s", u.Redacted())
				}
				fmt.Fprintf(stderr, "soak: RabbitMQ is not reachable at %s; skipping amqp\n", u.Redacted())
				continue
			}
			queue := "rpc_soak_" + randomHex()
			q := u.Query()
			q.Set("queue", queue)
			u.RawQuery = q.Encode()
			listen, dial = u.String(), u.String()
			broker := cfg.amqpURL
			tg.clean = func() { deleteQueue(broker, queue) }
		}
		srv, err := rpcwire.Listen(ctx, listen, reg)
		if err != nil {
			return targets, fmt.Errorf("%s: %w", name, err)
		}
		tg.srv = srv
		targets = append(targets, tg)
		if dial == "" {
			dial = srv.Addr()
		}
		if tg.client, err = rpcwire.Dial(ctx, dial); err != nil {
			return targets, fmt.Errorf("%s: %w", name, err)
		}
	}
	if len(targets) == 0 {
		return nil, errors.New("no transport to load")
	}
	return targets, nil
}

// load makes tg's calls until its share is used up or ctx ends.
func load(ctx context.Context, cfg *config, tg *target, w int) {
	for i := 0; tg.left.Add(-1) >= 0 && ctx.Err() == nil; i++ {
		cctx, cancel := context.WithTimeout(ctx, cfg.callTimeout)
		var got, want int
		var err error
		if i%2 == 0 {
			err, want = tg.client.Call(cctx, "fib", []any{30}, &got), 832040
		} else {
			err, want = tg.client.Call(cctx, "fun_add", []any{w, i}, &got), w+i
		}
		cancel()
		if err == nil && got != want {
			err = fmt.Errorf("wrong result %d, want %d", got, want)
		}
		if err != nil {
			if ctx.Err() != nil {
				return // the run is over, not the call's fault
			}
			tg.failed.Add(1)
			tg.first.CompareAndSwap(nil, fmt.Errorf("%s: %w", tg.name, err))
			continue
		}
		tg.done.Add(1)
	}
}

// watch prints a sample every interval until the load is done and checks
// it against the baseline taken after the warm-up. It reports whether
// every sample stayed within bounds.
func watch(ctx context.Context, cfg *config, targets []*target, stdout io.Writer, loadDone <-chan struct{}) bool {
	tick := time.NewTicker(cfg.interval)
	defer tick.Stop()
	start := time.Now()
	var (
		baseHeap uint64
		baseG    int
		haveBase bool
		maxHeap  uint64
		maxG     int
		ok       = true
	)
	warmup := cfg.calls / 10
	sample := func(final bool) {
		runtime.GC() // heap in use after a GC: what is really kept
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		g := runtime.NumGoroutine()
		var done int64
		for _, tg := range targets {
			done += tg.done.Load() + tg.failed.Load()
		}
		rate := float64(done) / time.Since(start).Seconds()
		fmt.Fprintf(stdout, "%7.1fs %9d calls %8.0f/s  heap in use %6.1f MB  goroutines %4d",
			time.Since(start).Seconds(), done, rate, float64(ms.HeapInuse)/(1<<20), g)
		switch {
		case !haveBase && (done >= warmup || final):
			baseHeap, baseG, haveBase = ms.HeapInuse, g, true
			fmt.Fprint(stdout, "  (baseline)")
		case haveBase:
			maxHeap, maxG = max(maxHeap, ms.HeapInuse), max(maxG, g)
			heapBound := baseHeap + cfg.maxHeapGrowth + uint64(cfg.heapGrowthFrac*float64(baseHeap))
			if ms.HeapInuse > heapBound {
				fmt.Fprintf(stdout, "  FAIL: heap above %.1f MB", float64(heapBound)/(1<<20))
				ok = false
			}
			if g > baseG+cfg.maxGoroutines {
				fmt.Fprintf(stdout, "  FAIL: goroutines above %d", baseG+cfg.maxGoroutines)
				ok = false
			}
		}
		fmt.Fprintln(stdout)
	}
	for {
		select {
		case <-tick.C:
			sample(false)
		case <-loadDone:
			sample(true)
			fmt.Fprintf(stdout, "baseline heap %.1f MB, %d goroutines; highest later sample %.1f MB, %d goroutines\n",
				float64(baseHeap)/(1<<20), baseG, float64(maxHeap)/(1<<20), maxG)
			return ok
		case <-ctx.Done():
			return false
		}
	}
}

func closeAll(targets []*target) {
	for _, tg := range targets {
		if tg.client != nil {
			_ = tg.client.Close()
		}
		if tg.srv != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := tg.srv.Shutdown(sctx); err != nil {
				_ = tg.srv.Close()
			}
			cancel()
		}
		if tg.clean != nil {
			tg.clean()
		}
	}
}

// reachable reports whether something listens at the broker's address.
func reachable(u *url.URL) bool {
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "5672")
	}
	conn, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func deleteQueue(broker, queue string) {
	conn, err := amqp091.Dial(broker)
	if err != nil {
		return
	}
	defer conn.Close()
	if ch, err := conn.Channel(); err == nil {
		_, _ = ch.QueueDelete(queue, false, false, false)
	}
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
