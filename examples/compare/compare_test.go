package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rpcwire/rpcwire"
	"github.com/rpcwire/rpcwire/examples/funcs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fast are flags that keep a run short in tests.
var fast = []string{"-duration", "50ms", "-warmup", "10ms", "-concurrency", "1,4"}

// compare runs the command in-process and returns its exit code, stdout
// and stderr.
func compare(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// available lists the embedded transports this build and machine can run.
func available(t *testing.T) []string {
	t.Helper()
	out := []string{"mem", "http"}
	if brokerUp(t) {
		out = append(out, "amqp")
	}
	return out
}

func amqpURL() string {
	if u := os.Getenv("AMQP_URL"); u != "" {
		return u
	}
	return defaultAMQPURL
}

// brokerUp reports whether RabbitMQ answers; with CI set it must.
func brokerUp(t *testing.T) bool {
	t.Helper()
	conn, err := dialBroker(amqpURL(), 2*time.Second)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the broker is unreachable: %v", err)
		}
		t.Logf("amqp not tested: %v", err)
		return false
	}
	_ = conn.Close()
	return true
}

// tableRows returns the data rows of the table: lines whose first field
// is a transport name and second a number.
func tableRows(out string) map[string][]string {
	rows := map[string][]string{}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 13 && f[1] != "flight" {
			rows[f[0]+"/"+f[1]] = f
		}
	}
	return rows
}

func TestTable(t *testing.T) {
	trs := available(t)
	code, out, errOut := compare(t, append(fast, "-transports", strings.Join(trs, ","))...)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "transport  in flight")
	assert.Contains(t, out, "bytes/call: request + reply body bytes", "the legend says what is counted")
	assert.NotContains(t, out, "\r", "no progress line when stdout is not a terminal")
	assert.Empty(t, errOut)
	rows := tableRows(out)
	for _, tr := range trs {
		for _, c := range []string{"1", "4"} {
			f, ok := rows[tr+"/"+c]
			require.True(t, ok, "row %s at %s in flight in:\n%s", tr, c, out)
			assert.Equal(t, "0", f[3], "errors")
			assert.NotEqual(t, "0", f[4], "calls/s")
			assert.NotEqual(t, "-", f[9], "%s counts its body bytes", tr)
		}
	}
	// The table is aligned: every header and data line has the same width.
	var widths []int
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "transport ") || len(strings.Fields(line)) == 13 {
			widths = append(widths, len([]rune(strings.TrimRight(line, "\n"))))
		}
	}
	require.NotEmpty(t, widths)
	for _, w := range widths {
		assert.Equal(t, widths[0], w, "aligned columns:\n%s", out)
	}
}

func TestUnavailableTransportsAreSkipped(t *testing.T) {
	code, out, _ := compare(t, append(fast, "-transports", "mem,gopher", "-amqp-url", "amqp://guest:secret@127.0.0.1:1/")...)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "gopher: skipped: this build has no gopher:// transport")
	assert.Contains(t, tableRows(out), "mem/1")

	code, out, _ = compare(t, append(fast, "-transports", "mem,amqp", "-amqp-url", "amqp://guest:secret@127.0.0.1:1/")...)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "amqp: skipped: no AMQP broker at amqp://guest:xxxxx@127.0.0.1:1/")
	assert.Contains(t, out, "rabbitmq-server -detached")
	assert.NotContains(t, out, "secret")
	assert.Contains(t, tableRows(out), "mem/4", "the others are still reported")
}

var jsonKeys = []string{
	"transport", "concurrency", "calls", "errors", "calls_per_sec",
	"p50_us", "p90_us", "p99_us", "max_us", "bytes_per_call",
}

func TestJSON(t *testing.T) {
	trs := available(t)
	code, out, errOut := compare(t, append(fast, "-json", "-transports", strings.Join(trs, ","), "-calls", "40")...)
	require.Equal(t, 0, code, errOut)
	var n int
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		n++
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "line %q", sc.Text())
		for _, k := range jsonKeys {
			assert.Contains(t, m, k)
		}
		assert.NotContains(t, m, "ratio_to_baseline", "only with -baseline")
		assert.EqualValues(t, 40, m["calls"], "-calls N makes exactly N calls")
		assert.EqualValues(t, 0, m["errors"])
		assert.Greater(t, m["calls_per_sec"], 0.0)
		assert.LessOrEqual(t, m["p50_us"], m["p99_us"])
		assert.LessOrEqual(t, m["p99_us"], m["max_us"])
	}
	assert.Equal(t, 2*len(trs), n, "a line per transport and concurrency")
}

func TestRepeat(t *testing.T) {
	code, out, errOut := compare(t, "-json", "-transports", "mem", "-concurrency", "2", "-calls", "30", "-repeat", "3", "-warmup", "0")
	require.Equal(t, 0, code, errOut)
	var r row
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	assert.EqualValues(t, 90, r.Calls, "three runs of 30 calls, summed")
	require.Len(t, r.RunsPerSec, 3, "each run's calls/s")
	assert.Equal(t, slices.Sorted(slices.Values(r.RunsPerSec))[1], r.CallsPerSec, "calls/s is the median run's")
}

func TestErrorsAreReported(t *testing.T) {
	// A deadline too short for any call: every call fails, the run says so.
	code, out, _ := compare(t, "-transports", "mem", "-concurrency", "2", "-calls", "20", "-warmup", "0", "-call-timeout", "1ns")
	assert.Equal(t, 1, code, "errors make the exit code 1")
	f := tableRows(out)["mem/2"]
	require.NotNil(t, f, out)
	assert.Equal(t, "20", f[3], "all 20 calls failed")
	assert.Equal(t, "0", f[4], "no successful calls per second")
	assert.Contains(t, out, "mem at 2 in flight: 20 errors, the first: ")
	assert.Contains(t, out, "timeout")
}

func TestBaseline(t *testing.T) {
	trs := available(t)
	code, out, errOut := compare(t, append(fast, "-json", "-baseline", "-transports", strings.Join(trs, ","))...)
	require.Equal(t, 0, code, errOut)
	seen := map[string]bool{}
	for line := range strings.Lines(out) {
		var r row
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		seen[r.Transport] = true
		assert.Len(t, r.RunsPerSec, baselineRepeat, "-baseline interleaves runs by default")
		switch r.Transport {
		case "http", "amqp":
			require.NotNil(t, r.RatioToBaseline, "%s has a ratio", r.Transport)
			assert.Equal(t, "raw-"+r.Transport, r.Baseline)
			assert.Greater(t, *r.RatioToBaseline, 0.0)
		case rawHTTP, rawAMQP:
			assert.True(t, r.Floor)
			assert.Zero(t, r.Errors)
		case "mem":
			assert.Nil(t, r.RatioToBaseline, "mem has no floor")
		}
	}
	for _, tr := range trs {
		if tr != "mem" {
			assert.True(t, seen["raw-"+tr], "floor of %s measured", tr)
		}
	}
}

func TestChart(t *testing.T) {
	dir := t.TempDir()
	trs := strings.Join(available(t), ",")
	for _, name := range []string{"c.svg", "c.html"} {
		path := filepath.Join(dir, name)
		code, out, errOut := compare(t, append(fast, "-transports", trs, "-chart", path)...)
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, out, "chart written to "+path)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		if strings.HasSuffix(name, ".svg") {
			assertWellFormed(t, b)
			assert.True(t, bytes.HasPrefix(b, []byte("<svg ")))
		} else {
			assert.True(t, bytes.HasPrefix(b, []byte("<!doctype html>")))
			i, j := bytes.Index(b, []byte("<svg ")), bytes.Index(b, []byte("</svg>"))
			require.True(t, i > 0 && j > i)
			assertWellFormed(t, b[i:j+len("</svg>")])
			assert.Contains(t, string(b), "<table>")
		}
		assert.NotContains(t, string(b), "http-equiv", "no external assets")
		assert.NotRegexp(t, `(src|href)="(https?:)?//`, string(b), "no external assets")
		assert.Contains(t, string(b), "mem")
	}
}

// assertWellFormed checks b is well-formed XML with an svg root.
func assertWellFormed(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var root string
	for range 100_000 {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	assert.Equal(t, "svg", root)
}

func TestURL(t *testing.T) {
	code, out, _ := compare(t, append(fast, "-url", "mem://nobody")...)
	assert.Equal(t, 1, code, "nothing to measure")
	assert.Contains(t, out, "mem://nobody: skipped:")

	// An external server: an XML-RPC server of ours, outside the run.
	ctx := context.Background()
	srv, err := rpcwire.Listen(ctx, "http://127.0.0.1:0/", funcs.NewRegistry())
	require.NoError(t, err)
	defer srv.Close()
	u := strings.Replace(srv.Addr(), "http://", "http://user:hunter2@", 1)
	code, out, errOut := compare(t, append(fast, "-url", u, "-method", "fib")...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "fib(7)")
	assert.NotContains(t, out, "hunter2", "the label is the redacted URL")
	rows := tableRows(out)
	assert.Len(t, rows, 2, "only the -url server is loaded:\n%s", out)
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-concurrency", "0"},
		{"-concurrency", "x"},
		{"-duration", "0"},
		{"-calls", "-1"},
		{"-nosuchflag"},
		{"extra"},
	} {
		code, _, errOut := compare(t, args...)
		assert.Equal(t, 2, code, "%q", args)
		assert.NotEmpty(t, errOut, "%q says why", args)
	}
	code, _, errOut := compare(t, "-transports", "mem", "-method", "nosuch", "-duration", "10ms")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "nosuch")
}

func TestInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"-transports", "mem", "-duration", "1h", "-warmup", "0"}, &stdout, &stderr)
	assert.Less(t, time.Since(start), 10*time.Second, "cancel stops the run")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "interrupted")
}

func TestHist(t *testing.T) {
	var h hist
	for i := 1; i <= 10_000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.9, 9 * time.Millisecond}, {0.99, 9900 * time.Microsecond}} {
		got := h.quantile(tc.q)
		assert.InEpsilon(t, float64(tc.want), float64(got), 1.0/64, "q%v", tc.q)
	}
	assert.Equal(t, 10*time.Millisecond, h.quantile(1))
	assert.Equal(t, 10*time.Millisecond, h.max)

	// Every value lands in a bucket whose midpoint is within 1/64 of it,
	// from 0 to beyond the tracked range, with no index out of bounds.
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		v := r.Uint64N(1 << (r.IntN(44) + 1))
		i := bucketOf(v)
		require.Less(t, i, histBuckets)
		if v < maxTracked && v >= subCount {
			assert.InEpsilon(t, float64(v), float64(bucketMid(i)), 1.0/64, "v=%d", v)
		}
	}
	var empty hist
	assert.Zero(t, empty.quantile(0.5))
}

func TestGroup(t *testing.T) {
	for in, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		assert.Equal(t, want, group(in))
	}
}

func TestIsTerminal(t *testing.T) {
	assert.False(t, isTerminal(&bytes.Buffer{}))
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, isTerminal(f))
}

// TestFloors loads the raw floors directly, so they are tested before (and
// apart from) the transports they are floors for.
func TestFloors(t *testing.T) {
	cfg, err := parseFlags([]string{"-concurrency", "1,8"}, io.Discard)
	require.NoError(t, err)
	r := &runner{cfg: cfg, notes: io.Discard, stderr: io.Discard}
	defer func() { assert.NoError(t, r.env.close(context.Background())) }()
	ctx := context.Background()
	body := []byte("<?xml version=\"1.0\"?><methodCall><methodName>fun_add</methodName></methodCall>")

	floors := []*target{}
	f, err := rawHTTPFloor(ctx, r, body, "text/xml")
	require.NoError(t, err)
	floors = append(floors, f)
	if brokerUp(t) {
		f, err := rawAMQPFloor(ctx, r, amqpURL()+"?prefetch=8", 8, body, "text/xml")
		require.NoError(t, err)
		floors = append(floors, f)
	}
	for _, f := range floors {
		assert.True(t, f.isFloor)
		assert.EqualValues(t, 2*len(body), f.bytes)
		st := load(ctx, f.newCaller, plan{concurrency: 8, calls: 200, limit: 30 * time.Second}, nil)
		assert.EqualValues(t, 200, st.calls, f.name)
		assert.Zero(t, st.errors, "%s: %v", f.name, st.firstErr)
		assert.Positive(t, st.rate())
	}
}

func TestBrokerURL(t *testing.T) {
	got, err := brokerURL("amqp://u:p@h:5672/v?queue=q&codec=text&prefetch=4&heartbeat=5")
	require.NoError(t, err)
	assert.Equal(t, "amqp://u:p@h:5672/v?heartbeat=5", got)
	assert.Equal(t, 4, prefetchOf("amqp://h/?prefetch=4&workers=9"))
	assert.Equal(t, 9, prefetchOf("amqp://h/?workers=9"))
	assert.Equal(t, defaultAMQPPrefetch, prefetchOf("amqp://h/"))

	// A cluster's host list: the floor runs on its first node.
	got, err = brokerURL("amqp://u:p@a:5691,b:5692,c/v?quorum=true&shuffle=false&dead_letter_queue=d&method=fib")
	require.NoError(t, err)
	assert.Equal(t, "amqp://u:p@a:5691/v", got)
}

// TestQuorumQueue: a run on a quorum queue (which cannot be auto-deleted)
// measures it and deletes the queue at the end.
func TestQuorumQueue(t *testing.T) {
	u, persistent, err := queueURL("amqp://h/?quorum=true")
	require.NoError(t, err)
	assert.True(t, persistent)
	assert.NotContains(t, u, "auto_delete")
	u, persistent, err = queueURL("amqp://h/")
	require.NoError(t, err)
	assert.False(t, persistent)
	assert.Contains(t, u, "auto_delete=true")

	if !brokerUp(t) {
		t.Skip("no broker")
	}
	base := strings.TrimSuffix(amqpURL(), "/") + "/?quorum=true"
	code, out, errOut := compare(t, append(fast, "-transports", "amqp", "-amqp-url", base)...)
	require.Equal(t, 0, code, errOut+out)
	assert.Len(t, tableRows(out), 2, out)

	// deleteQueue removes what the run declared.
	q, _, err := queueURL(base)
	require.NoError(t, err)
	ctx := context.Background()
	srv, err := rpcwire.Listen(ctx, q, funcs.NewRegistry())
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	require.NoError(t, deleteQueue(q))
	conn, err := dialBroker(q, 2*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	ch, err := conn.Channel()
	require.NoError(t, err)
	pu, err := url.Parse(q)
	require.NoError(t, err)
	_, err = ch.QueueDeclarePassive(pu.Query().Get("queue"), true, false, false, false, nil)
	require.Error(t, err, "the queue is gone")
}
