// Command compare calls the same registered functions over every rpcwire
// transport, server and client in one process, and shows throughput and
// latency side by side:
//
//	go run ./examples/compare                      # mem, http, amqp (when a broker answers), 1 and 64 calls in flight
//	go run ./examples/compare -baseline            # plus the raw net/http and amqp091-go floors, and each ratio to them
//	go run ./examples/compare -concurrency 1,8,64 -duration 5s -chart compare.html
//	go run ./examples/compare -url http://127.0.0.1:8080/ -concurrency 8   # load a server of your own (Python's, say)
//	go run ./examples/compare -json | jq .          # one JSON object per transport and concurrency
//	go run ./examples/compare -otel -repeat 5       # each transport also with OpenTelemetry tracing and metrics on
//
// The functions are examples/funcs (fun_add, fib). Transports: mem
// (in-process), http (XML-RPC on an embedded server at 127.0.0.1:0) and
// amqp (RabbitMQ, when a broker answers at -amqp-url; a queue of its own,
// deleted afterwards). A transport this build lacks, or a broker that is
// not there, is reported in one line and skipped.
//
// For each transport and number of calls in flight it prints calls/s,
// latency percentiles (p50, p90, p99, max), errors, body bytes on the wire,
// and heap allocations and CPU time of this process per call, as a table
// (or -json lines), optionally a chart (-chart, SVG or HTML). With
// -baseline it also measures the raw floors (a net/http POST echo, an
// amqp091-go echo RPC with the same prefetch) and prints each transport's
// ratio to its floor; transports and floors then run interleaved, 5 runs
// each, and calls/s is the median run's, because only ratios measured
// together mean anything on a shared machine. -cpuprofile and -memprofile
// profile the runs.
//
// Each caller loops until the run's time or call count is spent; latencies
// go to a fixed-size histogram per caller, merged when the run ends, so
// memory stays flat however long a run lasts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rpcwire/rpcwire"
	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/internal/scalar"
	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

const (
	defaultAMQPURL = "amqp://guest:guest@127.0.0.1:5672/"
	// grace is how long calls may run past a timed run's end before they
	// are cancelled and counted as errors.
	grace = 10 * time.Second
	// With -baseline, unless -repeat and -duration say otherwise, each
	// transport and floor is measured in this many interleaved runs of
	// this length.
	baselineRepeat   = 5
	baselineDuration = 500 * time.Millisecond
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errReported is a flag error already printed by the flag package.
var errReported = errors.New("bad flags")

// config is what the flags say, checked.
type config struct {
	transports    []string
	transportsSet bool
	concurrency   []int
	duration      time.Duration
	calls         int64
	repeat        int
	warmup        time.Duration
	limit         time.Duration
	callTimeout   time.Duration
	method        string
	args          []any
	argText       string
	jsonOut       bool
	chart         string
	urls          []string
	baseline      bool
	otel          bool
	amqpURL       string
	amqpQueueURL  string // amqpURL with this run's queue
	persistent    bool   // the run's queues are durable or quorum: the run deletes them
	cpuProfile    string
	memProfile    string
}

// urlList collects repeated -url flags.
type urlList []string

func (u *urlList) String() string     { return strings.Join(*u, ",") }
func (u *urlList) Set(v string) error { *u = append(*u, v); return nil }

// parseFlags turns the command line into a config. Errors are for the user.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defAMQP := os.Getenv("AMQP_URL")
	if defAMQP == "" {
		defAMQP = defaultAMQPURL
	}
	var (
		cfg   config
		urls  urlList
		trs   = fs.String("transports", "mem,http,amqp", "comma-separated transports to serve in-process and load: mem, http, amqp")
		conc  = fs.String("concurrency", "1,64", "comma-separated numbers of calls in flight; each is a run per transport")
		calls = fs.Int64("calls", 0, "make exactly this many calls per run instead of running for -duration")
		argsF = fs.String("args", "", "comma-separated arguments (ints, floats, bools, else strings); default 2,3 for fun_add, 7 for fib")
	)
	fs.DurationVar(&cfg.duration, "duration", time.Second, "how long each measured run lasts")
	fs.IntVar(&cfg.repeat, "repeat", 1, "measure each transport this many times, interleaved with the others; calls/s is the median run's (steadies numbers on a noisy machine; default 5 runs of 500ms with -baseline)")
	fs.DurationVar(&cfg.warmup, "warmup", 250*time.Millisecond, "unmeasured calls before each run, to open connections and warm caches (at most 50ms before the later runs of -repeat)")
	fs.DurationVar(&cfg.limit, "max-time", 0, "hard limit of each run; calls still in flight are cancelled (default -duration + 10s, or 2m with -calls)")
	fs.DurationVar(&cfg.callTimeout, "call-timeout", 0, "give every call a deadline this long (context.WithTimeout per call, sent on the wire by http and amqp); 0: none, only -max-time")
	fs.StringVar(&cfg.method, "method", "fun_add", "method to call: fun_add or fib (or any method a -url server has)")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print one JSON object per transport and concurrency on stdout instead of the table")
	fs.StringVar(&cfg.chart, "chart", "", "write a chart of throughput and latency to `FILE` (.svg, or .html for a page with the table)")
	fs.Var(&urls, "url", "load the server at `URL` instead of embedded ones (repeatable), e.g. http://127.0.0.1:8080/ or amqp://guest:guest@127.0.0.1:5672/?codec=text")
	fs.BoolVar(&cfg.otel, "otel", false, "also measure each embedded transport with OpenTelemetry tracing and metrics on (transport/otelrpc on client and server, real SDK providers, every span sampled and batched to an exporter that discards them), as rows NAME+otel whose ratio column is to NAME")
	fs.BoolVar(&cfg.baseline, "baseline", false, "also measure the raw floors (net/http POST echo, amqp091-go echo RPC) and print each transport's ratio to its floor")
	fs.StringVar(&cfg.amqpURL, "amqp-url", defAMQP, "RabbitMQ broker for the amqp transport (env AMQP_URL); rpcwire amqp parameters such as ?prefetch=64 apply")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (setup, warm-ups, measured runs) to `FILE`; narrow it with -transports and -concurrency")
	fs.StringVar(&cfg.memProfile, "memprofile", "", "write an allocation profile to `FILE` at the end")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: compare [flags]\n\n"+
			"Serves examples/funcs over every transport in this process and loads each with the same calls.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errReported // the flag package has said what is wrong
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q (flags come first; see -h)", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg.transportsSet = set["transports"]
	if cfg.baseline && !set["repeat"] {
		// Ratios to a floor compare two runs made at different moments;
		// interleaving short runs and taking the median keeps a busy
		// moment of the machine from deciding them.
		cfg.repeat = baselineRepeat
		if !set["duration"] {
			cfg.duration = baselineDuration
		}
	}
	cfg.urls = urls

	for _, name := range splitList(*trs) {
		name = strings.ToLower(name)
		if !slices.Contains(cfg.transports, name) {
			cfg.transports = append(cfg.transports, name)
		}
	}
	if len(cfg.urls) > 0 && !cfg.transportsSet {
		cfg.transports = nil // -url replaces the embedded servers unless -transports asks for them too
	}
	for _, s := range splitList(*conc) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10_000 {
			return nil, fmt.Errorf("-concurrency: %q is not a number from 1 to 10000", s)
		}
		if !slices.Contains(cfg.concurrency, n) {
			cfg.concurrency = append(cfg.concurrency, n)
		}
	}
	if len(cfg.concurrency) == 0 {
		return nil, errors.New("-concurrency: give at least one number, e.g. 1,64")
	}
	cfg.calls = *calls
	switch {
	case cfg.calls < 0:
		return nil, errors.New("-calls must not be negative")
	case cfg.calls == 0 && cfg.duration <= 0:
		return nil, errors.New("-duration must be positive (or use -calls N)")
	case cfg.repeat < 1 || cfg.repeat > 1000:
		return nil, errors.New("-repeat must be from 1 to 1000")
	case cfg.warmup < 0:
		return nil, errors.New("-warmup must not be negative")
	case cfg.limit < 0:
		return nil, errors.New("-max-time must not be negative")
	case cfg.callTimeout < 0:
		return nil, errors.New("-call-timeout must not be negative")
	}
	if cfg.limit == 0 {
		cfg.limit = cfg.duration + grace
		if cfg.calls > 0 {
			cfg.limit = 2 * time.Minute
		}
	}
	if cfg.method == "" {
		return nil, errors.New("-method must not be empty")
	}
	if !set["args"] {
		switch cfg.method {
		case "fun_add":
			*argsF = "2,3"
		case "fib":
			*argsF = "7"
		}
	}
	cfg.args = parseArgs(splitList(*argsF))
	cfg.argText = formatArgs(cfg.args)

	q, persistent, err := queueURL(cfg.amqpURL)
	if err != nil {
		return nil, fmt.Errorf("-amqp-url: %w", err)
	}
	cfg.amqpQueueURL, cfg.persistent = q, persistent
	return &cfg, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parseArgs turns words into call arguments as the text codec does: int,
// float, bool, else string.
func parseArgs(words []string) []any {
	out := make([]any, len(words))
	for i, w := range words {
		out[i] = scalar.Parse(w)
	}
	return out
}

func formatArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok {
			parts[i] = strconv.Quote(s)
		} else {
			parts[i] = fmt.Sprint(a)
		}
	}
	return strings.Join(parts, ", ")
}

// runner carries one invocation's state.
type runner struct {
	cfg      *config
	table    *transport.Table
	reg      *registry.Registry
	want     any // the local registry's result, to check replies against
	env      env
	notes    io.Writer // one-line notes: stdout with the table, stderr with -json
	stderr   io.Writer
	progress bool
	rows     []row
	tel      *telemetry // -otel's interceptors, made on first use
}

func (r *runner) note(format string, args ...any) {
	fmt.Fprintf(r.notes, format+"\n", args...)
}

// run is the command without the process around it. It returns the exit
// code: 0 when every run completed, 1 when nothing could be measured or a
// run had errors, 2 for bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintf(stderr, "compare: %v\n", err)
		}
		return 2
	}
	r := &runner{
		cfg:      cfg,
		table:    rpcwire.NewTable(),
		reg:      funcs.NewRegistry(),
		notes:    stdout,
		stderr:   stderr,
		progress: isTerminal(stdout) && isTerminal(stderr),
	}
	if cfg.jsonOut {
		r.notes = stderr
	}
	r.env.slow = func(what string, took time.Duration) {
		fmt.Fprintf(stderr, "compare: %s took %v\n", what, took.Round(time.Millisecond))
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "compare: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "compare: cpu profile: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	code := r.main(ctx, stdout)
	cctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := r.env.close(cctx); err != nil {
		fmt.Fprintf(stderr, "compare: shutdown: %v\n", err)
		code = max(code, 1)
	}
	if cfg.memProfile != "" {
		if err := writeMemProfile(cfg.memProfile); err != nil {
			fmt.Fprintf(stderr, "compare: %v\n", err)
			code = max(code, 1)
		}
	}
	return code
}

func writeMemProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("memory profile: %w", err)
	}
	return f.Close()
}

// main sets up the targets, loads each at each concurrency and reports.
func (r *runner) main(ctx context.Context, stdout io.Writer) int {
	cfg := r.cfg
	if want, err := r.reg.Dispatch(ctx, cfg.method, cfg.args); err == nil {
		if w, err := wire.Convert(want); err == nil {
			r.want = w
		}
	} else if len(cfg.transports) > 0 {
		fmt.Fprintf(r.stderr, "compare: %s(%s): %v\n", cfg.method, cfg.argText, err)
		return 2
	}
	if !cfg.jsonOut {
		what := "client and servers in this process"
		if len(cfg.urls) > 0 {
			what = "client in this process, -url servers in their own"
			if len(cfg.transports) > 0 {
				what = "client and embedded servers in this process, -url servers in their own"
			}
		}
		run := fmt.Sprintf("%v per run", cfg.duration)
		if cfg.calls > 0 {
			run = fmt.Sprintf("%d calls per run", cfg.calls)
		}
		if cfg.repeat > 1 {
			run = fmt.Sprintf("%d interleaved runs of %s each", cfg.repeat, strings.TrimSuffix(run, " per run"))
		}
		fmt.Fprintf(stdout, "rpcwire compare: %s(%s), %s, each after a %v warm-up; %s; %s %s/%s, %d CPUs, GOMAXPROCS %d\n",
			cfg.method, cfg.argText, run, cfg.warmup, what,
			runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	}

	targets := r.setup(ctx)
	if len(targets) == 0 {
		fmt.Fprintln(r.stderr, "compare: nothing to measure")
		return 1
	}
	if ctx.Err() != nil {
		return 1
	}
	if !cfg.jsonOut {
		fmt.Fprintln(stdout)
	}

	tab := &table{w: stdout, nameWidth: len("transport")}
	for _, t := range targets {
		tab.nameWidth = max(tab.nameWidth, len([]rune(t.name)))
	}
	floorRate := map[string]float64{}
	code := 0
	acc := make([]stats, len(targets))
	for _, conc := range cfg.concurrency {
		clear(floorRate)
		clear(acc)
		for round := range cfg.repeat {
			for i, t := range targets {
				if ctx.Err() != nil {
					break
				}
				st := r.measure(ctx, t, conc, round)
				acc[i].add(&st)
				if round < cfg.repeat-1 {
					continue
				}
				rw := newRow(t, conc, cfg.method, &acc[i])
				floorRate[t.name] = rw.CallsPerSec // the floor of floors, and of NAME+otel rows
				if rate, ok := floorRate[t.floor]; ok && !t.isFloor {
					rw.setRatio(t.floor, rate)
				}
				if rw.Errors > 0 {
					code = 1
				}
				r.rows = append(r.rows, rw)
				if cfg.jsonOut {
					if err := writeJSON(stdout, rw); err != nil {
						fmt.Fprintf(r.stderr, "compare: %v\n", err)
						return 1
					}
				} else {
					tab.print(rw)
				}
			}
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(r.stderr, "compare: interrupted")
		code = 1
	}
	if !cfg.jsonOut && len(r.rows) > 0 {
		fmt.Fprintln(stdout)
		for _, rw := range r.rows {
			if rw.FirstError != "" {
				fmt.Fprintf(stdout, "%s at %d in flight: %d errors, the first: %s\n", rw.Transport, rw.Concurrency, rw.Errors, rw.FirstError)
			}
		}
		legend(stdout, cfg.baseline, cfg.repeat > 1)
		if cfg.otel {
			fmt.Fprintln(stdout, "NAME+otel: the same transport with transport/otelrpc interceptors on client and server (spans sampled and batched to a")
			fmt.Fprintln(stdout, "  discarding exporter, duration histograms and in-flight counters); vs floor: its calls/s as a fraction of NAME's.")
		}
	}
	if cfg.chart != "" && len(r.rows) > 0 {
		if err := writeChart(cfg.chart, r.rows, r.chartTitle()); err != nil {
			fmt.Fprintf(r.stderr, "compare: chart: %v\n", err)
			return 1
		}
		fmt.Fprintf(r.notes, "chart written to %s\n", cfg.chart)
	}
	return code
}

func (r *runner) chartTitle() string {
	return fmt.Sprintf("rpcwire: %s(%s) over each transport — %s/%s, %d CPUs, %s",
		r.cfg.method, r.cfg.argText, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02 15:04 MST"))
}

// setup starts the embedded servers, dials them and the -url servers, and
// adds the raw floors with -baseline. It returns the targets in the order
// they are measured: each floor just before the first transport compared
// to it. Whatever cannot be set up is reported in one line and skipped.
func (r *runner) setup(ctx context.Context) []*target {
	cfg := r.cfg
	var loaded []*target
	schemes := r.table.Schemes()
	for _, name := range cfg.transports {
		if ctx.Err() != nil {
			return nil
		}
		if !slices.Contains(schemes, name) {
			r.note("%s: skipped: this build has no %s:// transport (it has %s)", name, name, strings.Join(schemes, ", "))
			continue
		}
		if name == "amqp" || name == "amqps" {
			conn, err := dialBroker(cfg.amqpURL, 2*time.Second)
			if err != nil {
				r.note("%s: skipped: %v; start one with `rabbitmq-server -detached`, or set -amqp-url / AMQP_URL", name, err)
				continue
			}
			_ = conn.Close()
		}
		start := time.Now()
		t, err := embedded(ctx, r, name)
		if took := time.Since(start); took > slowStep {
			r.env.slow("starting "+name, took)
		}
		if err != nil {
			r.note("%s: skipped: %v", name, err)
			continue
		}
		loaded = append(loaded, t)
		if cfg.otel {
			ot, err := embeddedOtel(ctx, r, name)
			if err != nil {
				r.note("%s: skipped: %v", name+otelSuffix, err)
				continue
			}
			loaded = append(loaded, ot)
		}
	}
	for _, raw := range cfg.urls {
		if ctx.Err() != nil {
			return nil
		}
		label := redact(raw)
		t, err := clientTarget(ctx, r, label, raw)
		if err != nil {
			r.note("%s: skipped: %v", label, err)
			continue
		}
		loaded = append(loaded, t)
	}
	if !cfg.baseline {
		return loaded
	}
	var out []*target
	placed := map[string]bool{}
	for _, t := range loaded {
		if t.floor != "" && !placed[t.floor] && !strings.HasSuffix(t.name, otelSuffix) {
			placed[t.floor] = true
			if f := r.floor(ctx, t); f != nil {
				out = append(out, f)
			}
		}
		out = append(out, t)
	}
	if len(placed) == 0 {
		r.note("baseline: no http or amqp transport in this run, so no raw floor to measure")
	}
	return out
}

// floor sets up the raw floor t is compared to, or reports why it cannot.
func (r *runner) floor(ctx context.Context, t *target) *target {
	body, ct, err := floorBody(t, r)
	var f *target
	if err == nil {
		switch t.floor {
		case rawHTTP:
			f, err = rawHTTPFloor(ctx, r, body, ct)
		case rawAMQP:
			broker := r.cfg.amqpURL
			prefetch := prefetchOf(r.cfg.amqpQueueURL)
			if t.name != "amqp" && t.name != "amqps" { // a -url target: its broker and prefetch
				broker, prefetch = t.url, prefetchOf(t.url)
				for _, raw := range r.cfg.urls {
					if redact(raw) == t.url {
						broker = raw
					}
				}
			}
			f, err = rawAMQPFloor(ctx, r, broker, prefetch, body, ct)
		}
	}
	if err != nil {
		r.note("%s: skipped: %v", t.floor, err)
		return nil
	}
	return f
}

// laterWarmup bounds the warm-up of the second and later runs of -repeat:
// connections are open by then, a short warm-up only gets the callers going.
const laterWarmup = 50 * time.Millisecond

// measure warms t up at conc calls in flight, then measures it. round
// counts the runs of t at conc before this one.
func (r *runner) measure(ctx context.Context, t *target, conc, round int) stats {
	cfg := r.cfg
	warmup := cfg.warmup
	if round > 0 {
		warmup = min(warmup, laterWarmup)
	}
	if warmup > 0 {
		load(ctx, t.newCaller, plan{concurrency: conc, duration: warmup, limit: warmup + grace, callTimeout: cfg.callTimeout}, nil)
	}
	p := plan{concurrency: conc, duration: cfg.duration, calls: cfg.calls, limit: cfg.limit, callTimeout: cfg.callTimeout}
	m := new(meter)
	stopProgress := r.showProgress(t, conc, p, m)
	st := load(ctx, t.newCaller, p, m)
	stopProgress()
	return st
}

// showProgress prints a live progress line on stderr while a run goes on,
// when stdout and stderr are terminals. The returned func stops it and
// clears the line.
func (r *runner) showProgress(t *target, conc int, p plan, m *meter) func() {
	if !r.progress {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(r.stderr, "\r\033[K")
				return
			case <-tick.C:
				calls, errs := m.completed()
				m.mu.Lock()
				start := m.start
				m.mu.Unlock()
				if start.IsZero() {
					continue
				}
				el := time.Since(start)
				goal := p.duration.Round(100 * time.Millisecond).String()
				if p.calls > 0 {
					goal = group(uint64(p.calls)) + " calls"
				}
				fmt.Fprintf(r.stderr, "\r\033[K%s, %d in flight: %.1fs of %s, %s calls, %s errors, %s calls/s",
					t.name, conc, el.Seconds(), goal, group(calls), group(errs), group(uint64(float64(calls-errs)/el.Seconds())))
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
