// Package testenv finds what tests need from outside the module: the
// RabbitMQ broker and a Python with the modules the article's programs
// use. Locally a missing one skips the test with a message that says what
// to do; with CI set it fails the test instead, so CI never passes by
// skipping.
package testenv

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
// on PATH may not); PYTHON overrides it.
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

// Python returns the Python interpreter (env PYTHON, else DefaultPython),
// checking that it can import modules (for example "pika"), or skips the
// test (fails it when CI is set).
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	py := os.Getenv("PYTHON")
	if py == "" {
		py = DefaultPython
	}
	script := "import sys"
	for _, m := range modules {
		script += "; import " + m
	}
	if out, err := exec.Command(py, "-c", script).CombinedOutput(); err != nil {
		unavailable(t, fmt.Sprintf("%s with %v is needed (set PYTHON; on Debian apt-get install python3-pika): %v %s", py, modules, err, out))
	}
	return py
}

// Unavailable skips the test with msg, or fails it when CI is set.
func Unavailable(t testing.TB, msg string) {
	t.Helper()
	unavailable(t, msg)
}

func unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " [CI is set, so it must be available]")
	}
	t.Skip(msg)
}
