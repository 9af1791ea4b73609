package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire"
	"github.com/rpcwire/rpcwire/internal/testenv"
	"github.com/rpcwire/rpcwire/transport"
)

// amqpListenURL is the test broker with a queue of the test's own.
func amqpListenURL(t *testing.T) string {
	u, err := url.Parse(testenv.URL(t))
	require.NoError(t, err)
	var b [6]byte
	_, _ = rand.Read(b[:])
	q := u.Query()
	q.Set("queue", "server_otel_test_"+hex.EncodeToString(b[:]))
	q.Set("auto_delete", "true")
	u.RawQuery = q.Encode()
	return u.String()
}

// consoleSpan is what the console exporter writes of a span.
type consoleSpan struct {
	Name        string
	SpanKind    int
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct {
		TraceID, SpanID string
		Remote          bool
	}
	Attributes []struct {
		Key   string
		Value struct{ Value any }
	}
}

func (s consoleSpan) attr(key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			return toString(a.Value.Value)
		}
	}
	return ""
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// spansIn parses the JSON lines of the console exporter among log lines.
func spansIn(t *testing.T, out string) []consoleSpan {
	var spans []consoleSpan
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "{") {
			var s consoleSpan
			require.NoError(t, json.Unmarshal([]byte(line), &s), line)
			spans = append(spans, s)
		}
	}
	return spans
}

// TestForeignTraceparentParentsServerSpans: with the console exporter, a
// traceparent sent by Python's http.client (an HTTP header) and by pika
// (an AMQP message header) is the parent of the server's span.
func TestForeignTraceparentParentsServerSpans(t *testing.T) {
	py := testenv.Python(t, "pika")
	t.Setenv("OTEL_TRACES_EXPORTER", "console")
	t.Setenv("OTEL_SERVICE_NAME", "server-under-test")
	amqpURL := amqpListenURL(t)
	s := serve(t, "-listen", "http://127.0.0.1:0/", "-listen", amqpURL)
	require.Len(t, s.addrs, 2)

	const (
		httpTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
		httpParent = "00f067aa0ba902b7"
		amqpTrace  = "0af7651916cd43dd8448eb211c80319c"
		amqpParent = "b7ad6b7169203331"
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	script := `
import http.client, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
body = "<?xml version='1.0'?><methodCall><methodName>fib</methodName><params><param><value><int>7</int></value></param></params></methodCall>"
conn.request("POST", "/RPC2", body, {"Content-Type": "text/xml", "traceparent": sys.argv[2]})
resp = conn.getresponse()
print(resp.status, resp.read().decode())
`
	out, err := exec.CommandContext(ctx, py, "-c", script, s.addrs[0], "00-"+httpTrace+"-"+httpParent+"-01").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "<int>13</int>")

	u, err := url.Parse(amqpURL)
	require.NoError(t, err)
	u.RawQuery = ""
	headers := `{"traceparent": "00-` + amqpTrace + "-" + amqpParent + `-01"}`
	out, err = exec.CommandContext(ctx, py, "../../amqp/testdata/py/headers_client.py", u.String(),
		mustQueue(t, amqpURL), "fib", "7", headers).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "13", strings.TrimSpace(string(out)))

	require.Equal(t, 0, s.stop(), "the server flushes its spans as it stops")
	spans := spansIn(t, s.log.String())
	found := map[string]consoleSpan{}
	for _, sp := range spans {
		found[sp.SpanContext.TraceID] = sp
	}
	require.Contains(t, found, httpTrace, "a span in the Python HTTP caller's trace: %s", s.log.String())
	require.Contains(t, found, amqpTrace, "a span in the pika caller's trace")
	h, a := found[httpTrace], found[amqpTrace]
	assert.Equal(t, httpParent, h.Parent.SpanID, "the caller's span is the parent")
	assert.True(t, h.Parent.Remote)
	assert.Equal(t, "fib", h.Name)
	assert.Equal(t, "xmlrpc", h.attr("rpc.system.name"))
	assert.Equal(t, amqpParent, a.Parent.SpanID)
	assert.Equal(t, "fib", a.Name)
	assert.Equal(t, "rabbitmq", a.attr("messaging.system"))
	assert.Equal(t, 2, h.SpanKind, "SERVER")
}

// mustQueue is the queue parameter of a URL.
func mustQueue(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Query().Get("queue")
}

var metricsURL = regexp.MustCompile(`msg="serving metrics" url=(\S+)`)

// TestMetricsEndpoint: -metrics serves the call duration histogram per
// method in the Prometheus text format; after calls over HTTP and AMQP,
// some failing, its counts are the calls made, failed ones included.
func TestMetricsEndpoint(t *testing.T) {
	s := serve(t, "-listen", "http://127.0.0.1:0/", "-listen", amqpListenURL(t), "-metrics", "127.0.0.1:0")
	require.Len(t, s.addrs, 2)
	m := metricsURL.FindStringSubmatch(s.log.String())
	require.NotNil(t, m, s.log.String())
	endpoint := m[1]

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := map[string]int{} // transport method → calls
	call := func(addr, method string, args ...any) {
		c, err := rpcwire.Dial(ctx, addr)
		require.NoError(t, err)
		defer c.Close()
		_ = c.Call(ctx, method, args, nil)
		scheme, _, _ := strings.Cut(addr, ":")
		if method == "nope" {
			method = "_OTHER"
		}
		want[scheme+" "+method]++
	}
	for _, addr := range s.addrs {
		for range 3 {
			call(addr, "fib", 7)
		}
		call(addr, "fib", -1) // a fault
		call(addr, "fun_add", 1, 2)
		call(addr, "nope") // no such method
	}

	resp, err := http.Get(endpoint)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	text := string(body)

	got := map[string]int{}
	failed := 0
	line := regexp.MustCompile(`(?m)^rpc_server_call_duration_seconds_count\{([^}]*)\} (\d+)$`)
	for _, m := range line.FindAllStringSubmatch(text, -1) {
		labels := map[string]string{}
		for _, kv := range regexp.MustCompile(`(\w+)="([^"]*)"`).FindAllStringSubmatch(m[1], -1) {
			labels[kv[1]] = kv[2]
		}
		n, _ := strconv.Atoi(m[2])
		got[labels["rpcwire_transport"]+" "+labels["rpc_method"]] += n
		if labels["error_type"] != "" {
			failed += n
		}
	}
	assert.Equal(t, want, got, "calls per transport and method, failed ones included:\n%s", text)
	assert.Equal(t, 4, failed, "fib(-1) and nope, over each transport")
	assert.Contains(t, text, "# TYPE rpc_server_call_duration_seconds histogram")
	assert.Contains(t, text, `rpc_server_call_duration_seconds_bucket{`)
	assert.Contains(t, text, "rpcwire_server_active_calls")

	resp, err = http.Get(strings.TrimSuffix(endpoint, "/metrics") + "/other")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, 0, s.stop())
}

// TestNoTelemetryByDefault: without OTEL_* settings nothing is printed
// and no interceptor is added.
func TestNoTelemetryByDefault(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	s := serve(t, "-listen", "mem://server-no-otel")
	fib7(t, s.addrs[0], transport.WithTimeout(5*time.Second))
	require.Equal(t, 0, s.stop())
	assert.Empty(t, spansIn(t, s.log.String()))

	t.Setenv("OTEL_TRACES_EXPORTER", "zipkin")
	var log strings.Builder
	assert.Equal(t, 2, run(context.Background(), []string{"-listen", "mem://x"}, &log, nil))
	assert.Contains(t, log.String(), "want console, otlp or none")
}
