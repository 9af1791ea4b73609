package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rpcwire/rpcwire"
	"github.com/rpcwire/rpcwire/examples/funcs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	srv, err := rpcwire.Listen(context.Background(), "mem://client-test", funcs.NewRegistry())
	require.NoError(t, err)
	defer srv.Close()

	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"fib", []string{"fib", "7"}, 0, "13\n", ""},
		{"fun_add", []string{"fun_add", "2", "3"}, 0, "5\n", ""},
		{"big", []string{"fun_add", "2147483647", "1"}, 0, "2147483648\n", ""},
		{"list", []string{"system.listMethods"}, 0, `["fib","fun_add","system.listMethods",` +
			`"system.methodHelp","system.methodSignature","system.multicall"]` + "\n", ""},
		{"fault", []string{"fib", "-1"}, 1, "", "negative"},
		{"unknown method", []string{"nope"}, 1, "", `"nope"`},
		{"wrong type", []string{"fun_add", "2", "x"}, 1, "", "argument 2"},
		{"no server", []string{"-url", "mem://nobody", "fib", "7"}, 2, "", "no server"},
		{"bad scheme", []string{"-url", "gopher://x", "fib", "7"}, 2, "", "known schemes"},
		{"usage", nil, 2, "", "usage"},
		{"notify", []string{"-notify", "fib", "7"}, 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := tc.args
			if len(args) == 0 || args[0] != "-url" {
				args = append([]string{"-url", "mem://client-test"}, args...)
			}
			if tc.name == "usage" {
				args = []string{"-url", "mem://client-test"}
			}
			code := run(context.Background(), args, &stdout, &stderr)
			assert.Equal(t, tc.code, code, "stderr: %s", stderr.String())
			if tc.stdout != "" || tc.code == 0 {
				assert.Equal(t, tc.stdout, stdout.String())
			}
			assert.Contains(t, stderr.String(), tc.stderr)
		})
	}
}

func TestParseArgs(t *testing.T) {
	got := parseArgs([]string{"2", "2.5", "true", "T", "x"})
	assert.Equal(t, []any{int64(2), 2.5, true, "T", "x"}, got)
}

func TestTimeout(t *testing.T) {
	reg := funcs.NewRegistry()
	require.NoError(t, reg.Register("slow", func(ctx context.Context) error {
		select {
		case <-time.After(10 * time.Second):
		case <-ctx.Done():
		}
		return ctx.Err()
	}))
	srv, err := rpcwire.Listen(context.Background(), "mem://client-timeout", reg)
	require.NoError(t, err)
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-url", "mem://client-timeout", "-timeout", "100ms", "slow"}, &stdout, &stderr)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr.String(), "timeout")
}

// TestConsoleTracing: with OTEL_TRACES_EXPORTER=console the call's span
// goes to stderr, stdout stays the result alone, and TRACEPARENT puts the
// call in the caller's trace.
func TestConsoleTracing(t *testing.T) {
	srv, err := rpcwire.Listen(context.Background(), "mem://client-otel", funcs.NewRegistry())
	require.NoError(t, err)
	defer srv.Close()
	t.Setenv("OTEL_TRACES_EXPORTER", "console")
	t.Setenv("TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"-url", "mem://client-otel", "fib", "7"}, &stdout, &stderr), stderr.String())
	assert.Equal(t, "13\n", stdout.String())
	var span struct {
		Name        string
		SpanContext struct{ TraceID string }
		Parent      struct{ SpanID string }
	}
	require.NoError(t, json.Unmarshal(stderr.Bytes(), &span), stderr.String())
	assert.Equal(t, "fib", span.Name)
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", span.SpanContext.TraceID)
	assert.Equal(t, "00f067aa0ba902b7", span.Parent.SpanID)
}
