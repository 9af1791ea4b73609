// Package brokertest holds what tests that need RabbitMQ or the article's
// pika programs share: finding the broker (skipping when it is absent,
// failing when CI says it must be there) and finding a Python with pika.
package brokertest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"
)

// DefaultURL is the broker tests use unless AMQP_URL says otherwise.
const DefaultURL = "amqp://guest:guest@127.0.0.1:5672/"

// DefaultPython is the interpreter that has pika here (the first python3
// on PATH may not); PIKA_PYTHON overrides it.
const DefaultPython = "/usr/bin/python3"

// URL returns the test broker's URL (env AMQP_URL, else DefaultURL). When
// the broker is unreachable the test is skipped, unless env CI is set:
// there the broker must be up and the test fails.
func URL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv("AMQP_URL")
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("AMQP_URL: %v", err)
	}
	host := u.Host
	if u.Port() == "" {
		port := "5672"
		if u.Scheme == "amqps" {
			port = "5671"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	conn, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		unavailable(t, fmt.Sprintf("RabbitMQ is not reachable at %s: %v (start one, or set AMQP_URL)", u.Redacted(), err))
	}
	conn.Close()
	return raw
}

// Python returns an interpreter that can import pika, for running the
// article's programs, or skips the test (fails it when CI is set).
func Python(t testing.TB) string {
	t.Helper()
	py := os.Getenv("PIKA_PYTHON")
	if py == "" {
		py = DefaultPython
	}
	if out, err := exec.Command(py, "-c", "import pika").CombinedOutput(); err != nil {
		unavailable(t, fmt.Sprintf("%s with pika is needed to run the article's programs (set PIKA_PYTHON): %v %s", py, err, out))
	}
	return py
}

func unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " [CI is set, so it must be available]")
	}
	t.Skip(msg)
}
