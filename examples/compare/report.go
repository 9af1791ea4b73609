package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// row is one measured run: a transport at one concurrency. Its JSON form
// is what -json prints, one object per line.
type row struct {
	Transport       string    `json:"transport"`
	URL             string    `json:"url,omitempty"`
	Concurrency     int       `json:"concurrency"`
	Method          string    `json:"method"`
	Calls           uint64    `json:"calls"`
	Errors          uint64    `json:"errors"`
	Seconds         float64   `json:"seconds"`
	CallsPerSec     float64   `json:"calls_per_sec"`                // median of the runs with -repeat
	RunsPerSec      []float64 `json:"runs_calls_per_sec,omitempty"` // each run's, with -repeat
	P50us           float64   `json:"p50_us"`
	P90us           float64   `json:"p90_us"`
	P99us           float64   `json:"p99_us"`
	MaxUs           float64   `json:"max_us"`
	MeanUs          float64   `json:"mean_us"`
	BytesPerCall    *float64  `json:"bytes_per_call"` // null: codec not known
	AllocsPerCall   float64   `json:"allocs_per_call"`
	CPUusPerCall    *float64  `json:"cpu_us_per_call"` // null where not measured
	AllocBytesPer   float64   `json:"alloc_bytes_per_call"`
	HeapLiveBytes   uint64    `json:"heap_live_bytes"` // after the run and a GC
	Goroutines      int       `json:"goroutines"`      // after the run's workers stopped
	Floor           bool      `json:"floor,omitempty"`
	Baseline        string    `json:"baseline,omitempty"`
	RatioToBaseline *float64  `json:"ratio_to_baseline,omitempty"`
	FirstError      string    `json:"first_error,omitempty"`
}

func us(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)*10) / 10 }

// newRow turns a run's stats into a row.
func newRow(t *target, conc int, method string, st *stats) row {
	r := row{
		Transport:   t.name,
		URL:         t.url,
		Concurrency: conc,
		Method:      method,
		Calls:       st.calls,
		Errors:      st.errors,
		Seconds:     math.Round(st.elapsed.Seconds()*1000) / 1000,
		CallsPerSec: math.Round(st.rate()),
		P50us:       us(st.lat.quantile(0.50)),
		P90us:       us(st.lat.quantile(0.90)),
		P99us:       us(st.lat.quantile(0.99)),
		MaxUs:       us(st.lat.max),
		MeanUs:      us(st.lat.mean()),
		Floor:       t.isFloor,

		HeapLiveBytes: st.heapLive,
		Goroutines:    st.goroutines,
	}
	if len(st.rates) > 1 {
		for _, v := range st.rates {
			r.RunsPerSec = append(r.RunsPerSec, math.Round(v))
		}
	}
	if t.bytes >= 0 {
		b := t.bytes
		r.BytesPerCall = &b
	}
	if st.calls > 0 {
		r.AllocsPerCall = math.Round(float64(st.mallocs)/float64(st.calls)*10) / 10
		r.AllocBytesPer = math.Round(float64(st.allocMem) / float64(st.calls))
	}
	if st.firstErr != nil {
		r.FirstError = st.firstErr.Error()
	}
	if st.cpuSet && st.calls > 0 {
		v := math.Round(float64(st.cpu)/float64(time.Microsecond)/float64(st.calls)*10) / 10
		r.CPUusPerCall = &v
	}
	return r
}

// setRatio records the row's throughput as a fraction of its floor's.
func (r *row) setRatio(floor string, floorRate float64) {
	if floorRate <= 0 {
		return
	}
	v := math.Round(r.CallsPerSec/floorRate*100) / 100
	r.Baseline, r.RatioToBaseline = floor, &v
}

// table prints rows as an aligned table, one line per row as they come,
// so a long run shows its results as it goes.
type table struct {
	w         io.Writer
	nameWidth int
	header    bool
	lastConc  int
}

var columns = []struct {
	title string
	width int
}{
	{"in flight", 9}, {"calls", 9}, {"errors", 6}, {"calls/s", 9},
	{"p50", 8}, {"p90", 8}, {"p99", 8}, {"max", 8},
	{"bytes/call", 10}, {"allocs/call", 11}, {"cpu/call", 8}, {"vs floor", 8},
}

func (t *table) print(r row) {
	if !t.header {
		t.header = true
		fmt.Fprintf(t.w, "%-*s", t.nameWidth, "transport")
		for _, c := range columns {
			fmt.Fprintf(t.w, "  %*s", c.width, c.title)
		}
		fmt.Fprintln(t.w)
	} else if r.Concurrency != t.lastConc {
		fmt.Fprintln(t.w)
	}
	t.lastConc = r.Concurrency
	bytes := "-"
	if r.BytesPerCall != nil {
		bytes = strconv.FormatFloat(*r.BytesPerCall, 'f', 0, 64)
	}
	cpu := "-"
	if r.CPUusPerCall != nil {
		cpu = fmtUs(*r.CPUusPerCall)
	}
	vs := "-"
	switch {
	case r.Floor:
		vs = "floor"
	case r.RatioToBaseline != nil:
		vs = strconv.FormatFloat(*r.RatioToBaseline, 'f', 2, 64) + "x"
	}
	cells := []string{
		strconv.Itoa(r.Concurrency), group(r.Calls), group(r.Errors), group(uint64(r.CallsPerSec)),
		fmtUs(r.P50us), fmtUs(r.P90us), fmtUs(r.P99us), fmtUs(r.MaxUs),
		bytes, strconv.FormatFloat(r.AllocsPerCall, 'f', 1, 64), cpu, vs,
	}
	fmt.Fprintf(t.w, "%-*s", t.nameWidth, r.Transport)
	for i, c := range columns {
		fmt.Fprintf(t.w, "  %*s", c.width, cells[i])
	}
	fmt.Fprintln(t.w)
}

// legend says what the columns count.
func legend(w io.Writer, baseline, repeated bool) {
	lines := []string{
		"calls/s: successful calls per second of measured time (warm-up excluded), all in-flight callers together.",
		"p50..max: latency of successful calls as the caller sees it; percentiles from a log-linear histogram (within 1.6%), max exact.",
		"bytes/call: request + reply body bytes as the transport's codec encodes them (XML-RPC for http and amqp?codec=xml);",
		"  HTTP headers, AMQP frames and properties, TCP/IP and TLS are not counted. mem hands the same XML-RPC bodies over in memory.",
		"allocs/call, cpu/call: heap allocations and CPU time (user + system) of this process per call, client and server",
		"  together when both are in it (not the broker's). Less disturbed by other load on the machine than calls/s.",
	}
	if repeated {
		lines[0] = strings.TrimSuffix(lines[0], ".") + ";"
		lines = slices.Insert(lines, 1, "  with -repeat the median of the runs' calls/s, while calls, errors and latencies cover all runs.")
	}
	if baseline {
		lines = append(lines,
			"vs floor: calls/s as a fraction of the raw floor at the same in-flight count, measured in this run:",
			"  raw-http: a net/http POST echo of the same body; raw-amqp: an amqp091-go echo RPC, exclusive reply queue, same prefetch.")
	}
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// writeJSON prints r as one line of JSON.
func writeJSON(w io.Writer, r row) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// group formats n with thousands separators.
func group(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// fmtUs formats a latency in microseconds with a unit that keeps it short.
func fmtUs(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 1, 64) + "µs"
	case v < 1000:
		return strconv.FormatFloat(v, 'f', 0, 64) + "µs"
	case v < 10_000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + "ms"
	case v < 1_000_000:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "s"
}
