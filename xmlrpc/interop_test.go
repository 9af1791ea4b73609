package xmlrpc_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/internal/testenv"
	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
)

// TestPythonClient runs Python's stock xmlrpc.client against our server:
// results, int32 overflow into i8, faults, introspection, multicall and
// concurrent threads (testdata/py/check_server.py).
func TestPythonClient(t *testing.T) {
	python := testenv.Python(t)
	srv := newTestServer(t).listen(t, "http://127.0.0.1:0/")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, target := range []string{
		strings.TrimSuffix(srv.Addr(), "/"), // no path: Python posts to /RPC2
		srv.Addr(),
	} {
		out, err := exec.CommandContext(ctx, python, "testdata/py/check_server.py", target).CombinedOutput()
		require.NoError(t, err, "check_server.py %s:\n%s", target, out)
		assert.Contains(t, string(out), "ALL OK", "%s", out)
	}
	// The article's client.py, unchanged.
	out, err := exec.CommandContext(ctx, python, "testdata/py/xmlrpc_client.py", srv.Addr()).CombinedOutput()
	require.NoError(t, err, "xmlrpc_client.py:\n%s", out)
	assert.Equal(t, "5\n", string(out))
}

// startPythonServer runs the article's SimpleXMLRPCServer on a free port
// and returns its URL; the process is killed when the test ends.
func startPythonServer(t *testing.T) string {
	t.Helper()
	python := testenv.Python(t)
	var err error
	for range 3 { // another process may take the free port before Python binds it
		var port string
		if port, err = tryPythonServer(t, python); err == nil {
			return "http://127.0.0.1:" + port
		}
	}
	t.Fatal(err)
	return ""
}

// tryPythonServer starts xmlrpc_server.py on a port that was free a moment
// ago and waits until it listens.
func tryPythonServer(t *testing.T, python string) (string, error) {
	port := freePort(t)
	cmd := exec.Command(python, "testdata/py/xmlrpc_server.py", port)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	// The script binds before it prints its greeting.
	online := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "online") {
				online <- nil
				return
			}
		}
		online <- errors.New("xmlrpc_server.py exited before it was online (port " + port + " taken?)")
	}()
	select {
	case err := <-online:
		return port, err
	case <-time.After(15 * time.Second):
		return "", errors.New("xmlrpc_server.py did not come online within 15 s")
	}
}

// TestPythonServer calls the article's Python server with our client.
func TestPythonServer(t *testing.T) {
	addr := startPythonServer(t)
	for _, target := range []string{addr, addr + "/", addr + "/RPC2"} {
		c := dial(t, target)
		var sum int
		require.NoError(t, c.Call(ctxT(t), "fun_add", []any{2, 3}, &sum), target)
		assert.Equal(t, 5, sum)
	}
	c := dial(t, addr)

	var s string
	require.NoError(t, c.Call(ctxT(t), "fun_add", []any{"con", "cat"}, &s), "strings")
	assert.Equal(t, "concat", s)
	var f float64
	require.NoError(t, c.Call(ctxT(t), "fun_add", []any{1.5, 2.25}, &f), "doubles")
	assert.Equal(t, 3.75, f)
	var l []any
	require.NoError(t, c.Call(ctxT(t), "fun_add", []any{[]any{1, "a"}, []any{nil, true}}, &l), "arrays and nil")
	assert.Equal(t, []any{int64(1), "a", nil, true}, l)

	err := c.Call(ctxT(t), "no_such_method", []any{1}, nil)
	require.Error(t, err)
	var re *transport.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 1, re.Code, "SimpleXMLRPCServer reports every fault as code 1")
	assert.Contains(t, re.Message, `method "no_such_method" is not supported`)
	assert.ErrorIs(t, err, transport.ErrMethodNotFound)

	err = c.Call(ctxT(t), "fun_add", []any{1}, nil)
	require.ErrorAs(t, err, &re)
	assert.Contains(t, re.Message, "TypeError", "Python's own error text comes through")

	var names []string
	require.NoError(t, c.Call(ctxT(t), registry.ListMethods, nil, &names))
	assert.Contains(t, names, "fun_add")

	var results []any
	calls := []any{
		map[string]any{"methodName": "fun_add", "params": []any{2, 3}},
		map[string]any{"methodName": "nope", "params": []any{}},
		map[string]any{"methodName": "fun_add", "params": []any{1 << 20, 1}},
	}
	require.NoError(t, c.Call(ctxT(t), registry.Multicall, []any{calls}, &results))
	require.Len(t, results, 3)
	assert.Equal(t, []any{int64(5)}, results[0])
	fault, ok := results[1].(map[string]any)
	require.True(t, ok, "a failed multicall entry is a fault struct, got %#v", results[1])
	assert.Equal(t, int64(1), fault["faultCode"])
	assert.Equal(t, []any{int64(1<<20 + 1)}, results[2])

	assert.NoError(t, c.Notify(ctxT(t), "fun_add", []any{1, 2}))
}
