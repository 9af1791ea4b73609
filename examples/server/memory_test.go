package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
)

// Hostile multicalls (issue 11): 32 requests of 4 MiB at once, each a
// system.multicall of about 39,000 system.listMethods (12 MB of reply
// each, were it built), against the server binary as a process.
const (
	hostileRequests = 32
	maxPeakRSS      = 512 << 20
)

// multicallBody is a system.multicall of system.listMethods calls as
// large as fits size bytes.
func multicallBody(size int) []byte {
	const (
		head  = `<?xml version="1.0"?><methodCall><methodName>system.multicall</methodName><params><param><value><array><data>`
		entry = `<value><struct><member><name>methodName</name><value>system.listMethods</value></member></struct></value>`
		tail  = `</data></array></value></param></params></methodCall>`
	)
	n := (size - len(head) - len(tail)) / len(entry)
	return []byte(head + strings.Repeat(entry, n) + tail)
}

// peakRSS reads a process's peak resident set size (VmHWM) from
// /proc/PID/status.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB$`).FindSubmatch(status)
	require.NotNil(t, m, "no VmHWM in /proc/%d/status", pid)
	kb, err := strconv.ParseInt(string(m[1]), 10, 64)
	require.NoError(t, err)
	return kb << 10
}

// TestHostileMulticallMemory: 32 concurrent 4 MiB multicall requests
// keep the server's peak memory under 512 MiB, twice in a row, over HTTP
// and over AMQP, and each gets a size fault (the multicall holds more
// calls than registry.DefaultMaxMulticall) rather than a reply. What
// bounds the memory: requests count against transport.WithMaxBytesInFlight
// (32 MiB) before they are read (HTTP) or decoded (AMQP), the multicall is
// refused before any call runs, and a reply stops at the size limit.
func TestHostileMulticallMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the peak memory from /proc/PID/status (Linux)")
	}
	body := multicallBody(transport.DefaultMaxMessageSize)
	require.LessOrEqual(t, len(body), transport.DefaultMaxMessageSize)
	require.Greater(t, len(body), transport.DefaultMaxMessageSize-200)
	bin := buildServer(t)

	t.Run("http", func(t *testing.T) {
		p := start(t, bin, "-listen", "http://127.0.0.1:0/")
		m := regexp.MustCompile(`addr=(http://\S+)`).FindStringSubmatch(p.log.String())
		require.NotNil(t, m, "no address in the log:\n%s", p.log.String())
		tr := &http.Transport{MaxIdleConnsPerHost: hostileRequests}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		hostileRounds(t, p, len(body), func(ctx context.Context, replies chan<- string) {
			var wg sync.WaitGroup
			for range hostileRequests {
				wg.Add(1)
				go func() {
					defer wg.Done()
					replies <- postHostile(ctx, hc, m[1], body)
				}()
			}
			wg.Wait()
		})
		p.stop(t)
	})

	t.Run("amqp", func(t *testing.T) {
		u, broker, queue := queueURL(t, "rpc_hostile_")
		p := start(t, bin, "-listen", u.String())

		conn, err := amqp091.Dial(broker)
		require.NoError(t, err)
		defer conn.Close()
		ch, err := conn.Channel()
		require.NoError(t, err)
		rq, err := ch.QueueDeclare("", false, true, true, false, nil)
		require.NoError(t, err)
		deliveries, err := ch.Consume(rq.Name, "", true, true, false, false, nil)
		require.NoError(t, err)
		hostileRounds(t, p, len(body), func(ctx context.Context, replies chan<- string) {
			for i := range hostileRequests {
				err := ch.PublishWithContext(ctx, "", queue, true, false, amqp091.Publishing{
					ContentType: "text/xml", ReplyTo: rq.Name, CorrelationId: strconv.Itoa(i), Body: body})
				if err != nil {
					replies <- err.Error()
					return
				}
			}
			for range hostileRequests {
				select {
				case d := <-deliveries:
					replies <- string(d.Body)
				case <-ctx.Done():
					replies <- "no reply: " + ctx.Err().Error()
					return
				}
			}
		})
		p.stop(t)
	})
}

// hostileRounds sends the hostile requests with send twice, checks every
// reply is a size fault and that the server's peak memory stays under
// maxPeakRSS, and logs what it measured.
func hostileRounds(t *testing.T, p *proc, size int, send func(ctx context.Context, replies chan<- string)) {
	t.Helper()
	before := peakRSS(t, p.cmd.Process.Pid)
	for round := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		began := time.Now()
		replies := make(chan string, hostileRequests)
		send(ctx, replies)
		cancel()
		close(replies)
		n := 0
		for r := range replies {
			n++
			assert.Contains(t, r, "<int>-32002</int>", "a size fault")
			assert.Contains(t, r, "exceeds the limit of 1000", "the multicall is refused for its number of calls")
		}
		assert.Equal(t, hostileRequests, n, "replies")
		peak := peakRSS(t, p.cmd.Process.Pid)
		t.Logf("round %d: %d requests of %d bytes answered in %v; server peak RSS %d MiB (%d MiB before the first round)",
			round+1, hostileRequests, size, time.Since(began).Round(time.Millisecond), peak>>20, before>>20)
		assert.Less(t, peak, int64(maxPeakRSS), "peak RSS")
	}
}

// postHostile posts body to addr and returns the status and reply, or
// what went wrong.
func postHostile(ctx context.Context, hc *http.Client, addr string, body []byte) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, addr, bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := hc.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, b)
}
