package main

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartWidth   = 960
	chartLeft    = 76
	chartRight   = 24
	chartTop     = 78
	panelHeight  = 250
	panelGap     = 92
	chartBottom  = 64
	chartPlotW   = chartWidth - chartLeft - chartRight
	chartHeight  = chartTop + 2*panelHeight + panelGap + chartBottom
	maxBarWidth  = 56
	barGapFactor = 0.78 // share of a group's width the bars take
)

// palette colours transports by kind; floors are drawn in a pale shade of
// the transport they are a floor for. Other labels (-url) cycle extra.
var (
	kindColour = map[string]string{
		"mem": "#6b7280", "http": "#2563eb", rawHTTP: "#93c5fd",
		"amqp": "#ea580c", "amqps": "#ea580c", rawAMQP: "#fdba74",
	}
	extraColours = []string{"#16a34a", "#9333ea", "#db2777", "#0d9488", "#ca8a04", "#4f46e5"}
)

// writeChart writes rows as a chart to path: an SVG file, or with a .html
// or .htm name a self-contained page with the chart and the table.
func writeChart(path string, rows []row, title string) error {
	var buf bytes.Buffer
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		writeHTML(&buf, rows, title)
	default:
		writeSVG(&buf, rows, title)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// chartData is rows arranged for drawing: groups of bars, one group per
// concurrency, one bar per transport.
type chartData struct {
	names  []string
	concs  []int
	cell   map[string]map[int]row
	colour map[string]string
}

func arrange(rows []row) chartData {
	d := chartData{cell: map[string]map[int]row{}, colour: map[string]string{}}
	extra := 0
	for _, r := range rows {
		if _, ok := d.cell[r.Transport]; !ok {
			d.names = append(d.names, r.Transport)
			d.cell[r.Transport] = map[int]row{}
			c, ok := kindColour[r.Transport]
			if !ok {
				c = extraColours[extra%len(extraColours)]
				extra++
			}
			d.colour[r.Transport] = c
		}
		if !slices.Contains(d.concs, r.Concurrency) {
			d.concs = append(d.concs, r.Concurrency)
		}
		d.cell[r.Transport][r.Concurrency] = r
	}
	slices.Sort(d.concs)
	return d
}

// logAxis maps values to a log scale spanning whole decades around them.
type logAxis struct {
	lo, hi   float64 // decade exponents
	top, bot float64 // pixel rows of hi and lo
}

func newLogAxis(values []float64, top, bot float64) logAxis {
	minV, maxV := math.Inf(1), 0.0
	for _, v := range values {
		if v > 0 {
			minV, maxV = min(minV, v), max(maxV, v)
		}
	}
	if maxV == 0 {
		minV, maxV = 1, 10
	}
	lo, hi := math.Floor(math.Log10(minV)), math.Ceil(math.Log10(maxV))
	if hi <= lo {
		hi = lo + 1
	}
	return logAxis{lo: lo, hi: hi, top: top, bot: bot}
}

func (a logAxis) y(v float64) float64 {
	if v <= 0 {
		return a.bot
	}
	f := (math.Log10(v) - a.lo) / (a.hi - a.lo)
	return a.bot - f*(a.bot-a.top)
}

// siCount formats a count compactly: 950, 15.2k, 1.31M.
func siCount(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', 2, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func decadeCount(e float64) string {
	return []string{"1", "10", "100", "1k", "10k", "100k", "1M", "10M", "100M", "1G"}[min(max(int(e), 0), 9)]
}

func decadeMicros(e float64) string {
	return []string{"1µs", "10µs", "100µs", "1ms", "10ms", "100ms", "1s", "10s", "100s", "1000s"}[min(max(int(e), 0), 9)]
}

// writeSVG draws two panels: throughput bars, and latency (p50 bar with a
// p90–p99 whisker and a max dot) per transport and concurrency.
func writeSVG(w io.Writer, rows []row, title string) {
	d := arrange(rows)
	esc := html.EscapeString
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`+"\n",
		chartWidth, chartHeight, chartWidth, chartHeight)
	fmt.Fprintf(w, `<title>%s</title>`+"\n", esc(title))
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(w, `<text x="%d" y="24" font-size="15" font-weight="600" fill="#111827">%s</text>`+"\n", chartLeft-60, esc(title))

	// Legend: one swatch per transport.
	// Entries wrap to a second line; long labels (URLs) are shortened.
	x, y := float64(chartLeft-60), 38.0
	for _, n := range d.names {
		label := n
		if r := []rune(label); len(r) > 56 {
			label = string(r[:55]) + "…"
		}
		if anyFloor(d.cell[n]) {
			label += " (floor)"
		}
		width := 16 + 6.6*float64(len([]rune(label))) + 16
		if x+width > chartWidth-chartRight && x > chartLeft-60 {
			x, y = chartLeft-60, y+17
		}
		fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="12" height="12" rx="2" fill="%s"><title>%s</title></rect>`, x, y, d.colour[n], esc(n))
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" fill="#374151">%s</text>`+"\n", x+16, y+10.5, esc(label))
		x += width
	}

	groupW := float64(chartPlotW) / float64(len(d.concs))
	barW := math.Min(maxBarWidth, groupW*barGapFactor/float64(len(d.names)))
	barX := func(gi, ni int) float64 {
		used := barW * float64(len(d.names))
		return chartLeft + groupW*float64(gi) + (groupW-used)/2 + barW*float64(ni)
	}

	// Panel 1: throughput.
	top1 := float64(chartTop)
	bot1 := top1 + panelHeight
	var rates []float64
	for _, r := range rows {
		rates = append(rates, r.CallsPerSec)
	}
	ax := newLogAxis(rates, top1+18, bot1)
	panel(w, "Throughput: successful calls per second (log scale; higher is better)", top1, ax, decadeCount)
	for gi, c := range d.concs {
		groupLabel(w, gi, groupW, bot1, c)
		for ni, n := range d.names {
			r, ok := d.cell[n][c]
			if !ok {
				continue
			}
			bx := barX(gi, ni)
			y := ax.y(r.CallsPerSec)
			fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %d in flight: %s calls/s</title></rect>`+"\n",
				bx+1, y, barW-2, bot1-y, d.colour[n], esc(n), c, group(uint64(r.CallsPerSec)))
			fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11" fill="#111827">%s</text>`+"\n",
				bx+barW/2, y-4, siCount(r.CallsPerSec))
			if r.RatioToBaseline != nil {
				fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10" fill="#ffffff" font-weight="600">%.2f×</text>`+"\n",
					bx+barW/2, math.Min(y+14, bot1-4), *r.RatioToBaseline)
			}
		}
	}

	// Panel 2: latency.
	top2 := bot1 + panelGap
	bot2 := top2 + panelHeight
	var lats []float64
	for _, r := range rows {
		lats = append(lats, r.P50us, r.MaxUs)
	}
	al := newLogAxis(lats, top2+18, bot2)
	panel(w, "Latency per call: bar p50, whisker p90 to p99, dot max (log scale; lower is better)", top2, al, decadeMicros)
	for gi, c := range d.concs {
		groupLabel(w, gi, groupW, bot2, c)
		for ni, n := range d.names {
			r, ok := d.cell[n][c]
			if !ok {
				continue
			}
			bx := barX(gi, ni)
			cx := bx + barW/2
			y50, y90, y99, ymax := al.y(r.P50us), al.y(r.P90us), al.y(r.P99us), al.y(r.MaxUs)
			fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %d in flight: p50 %s, p90 %s, p99 %s, max %s</title></rect>`+"\n",
				bx+1, y50, barW-2, bot2-y50, d.colour[n], esc(n), c, fmtUs(r.P50us), fmtUs(r.P90us), fmtUs(r.P99us), fmtUs(r.MaxUs))
			fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#111827" stroke-width="1.5"/>`, cx, y90, cx, y99)
			fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#111827" stroke-width="1.5"/>`, cx-4, y90, cx+4, y90)
			fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#111827" stroke-width="1.5"/>`, cx-6, y99, cx+6, y99)
			fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="none" stroke="#111827"/>`+"\n", cx, ymax)
			fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10" fill="#ffffff" font-weight="600">%s</text>`+"\n",
				cx, math.Min(y50+13, bot2-3), fmtUs(r.P50us))
		}
	}
	for i, line := range []string{
		"Bars are per transport at each number of calls in flight; client and servers in one process unless a URL names the server.",
		"Ratios (×) are calls/s over the raw floor at the same number of calls in flight, measured in the same run.",
	} {
		fmt.Fprintf(w, `<text x="%d" y="%d" font-size="11" fill="#6b7280">%s</text>`+"\n", chartLeft-60, chartHeight-30+16*i, html.EscapeString(line))
	}
	fmt.Fprintln(w, `</svg>`)
}

func anyFloor(cells map[int]row) bool {
	for _, r := range cells {
		if r.Floor {
			return true
		}
	}
	return false
}

// panel draws a panel's title, decade gridlines and their labels.
func panel(w io.Writer, title string, top float64, a logAxis, label func(float64) string) {
	fmt.Fprintf(w, `<text x="%d" y="%.1f" font-size="13" font-weight="600" fill="#111827">%s</text>`+"\n", chartLeft-60, top, html.EscapeString(title))
	for e := a.lo; e <= a.hi; e++ {
		y := a.y(math.Pow(10, e))
		fmt.Fprintf(w, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`, chartLeft, y, chartWidth-chartRight, y,
			map[bool]string{true: "#9ca3af", false: "#e5e7eb"}[e == a.lo])
		fmt.Fprintf(w, `<text x="%d" y="%.1f" text-anchor="end" font-size="11" fill="#6b7280">%s</text>`+"\n", chartLeft-6, y+4, label(e))
	}
}

func groupLabel(w io.Writer, gi int, groupW, bottom float64, conc int) {
	fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="12" fill="#374151">%d in flight</text>`+"\n",
		chartLeft+groupW*(float64(gi)+0.5), bottom+18, conc)
}

// writeHTML writes a page holding the chart and the table, with no
// external assets.
func writeHTML(w io.Writer, rows []row, title string) {
	esc := html.EscapeString
	fmt.Fprintf(w, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title>\n", esc(title))
	fmt.Fprint(w, `<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px;color:#111827}
table{border-collapse:collapse;font-size:13px;margin-top:16px}
th,td{padding:3px 7px;text-align:right;border-bottom:1px solid #e5e7eb;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
tr.floor td{color:#6b7280}
p{font-size:13px;color:#374151;max-width:960px}
svg{max-width:100%;height:auto}
th{white-space:nowrap}
</style></head><body>
`)
	writeSVG(w, rows, title)
	fmt.Fprint(w, "<table>\n<tr><th>transport</th><th>in flight</th><th>calls</th><th>errors</th><th>calls/s</th><th>p50</th><th>p90</th><th>p99</th><th>max</th><th>bytes/call</th><th>allocs/call</th><th>cpu/call</th><th>vs floor</th></tr>\n")
	for _, r := range rows {
		bytes, vs, cpu := "-", "-", "-"
		if r.CPUusPerCall != nil {
			cpu = fmtUs(*r.CPUusPerCall)
		}
		if r.BytesPerCall != nil {
			bytes = strconv.FormatFloat(*r.BytesPerCall, 'f', 0, 64)
		}
		if r.Floor {
			vs = "floor"
		} else if r.RatioToBaseline != nil {
			vs = strconv.FormatFloat(*r.RatioToBaseline, 'f', 2, 64) + "×"
		}
		class := ""
		if r.Floor {
			class = ` class="floor"`
		}
		fmt.Fprintf(w, "<tr%s><td>%s</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%.1f</td><td>%s</td><td>%s</td></tr>\n",
			class, esc(r.Transport), r.Concurrency, group(r.Calls), group(r.Errors), group(uint64(r.CallsPerSec)),
			fmtUs(r.P50us), fmtUs(r.P90us), fmtUs(r.P99us), fmtUs(r.MaxUs), bytes, r.AllocsPerCall, cpu, vs)
	}
	fmt.Fprint(w, "</table>\n<p>")
	var legendText bytes.Buffer
	legend(&legendText, slices.ContainsFunc(rows, func(r row) bool { return r.Floor }),
		slices.ContainsFunc(rows, func(r row) bool { return len(r.RunsPerSec) > 1 }))
	fmt.Fprint(w, strings.ReplaceAll(esc(legendText.String()), "\n", "<br>\n"))
	fmt.Fprint(w, "</p>\n</body></html>\n")
}
