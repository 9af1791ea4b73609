package xmlcodec

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/internal/testenv"
	"github.com/rpcwire/rpcwire/transport"
)

// pythonLoads reads every body named on stdin with xmlrpc.client.loads and
// prints, per body, one JSON line of what Python found, tagged as
// gen.py tags values.
const pythonLoads = `
import base64, datetime, json, sys
import xmlrpc.client as xc

def tag(v):
    if v is None: return {"nil": None}
    if isinstance(v, bool): return {"boolean": v}
    if isinstance(v, int): return {"int": v}
    if isinstance(v, float): return {"double": v}
    if isinstance(v, str): return {"string": v}
    if isinstance(v, (bytes, bytearray)): return {"base64": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, datetime.datetime): return {"dateTime": v.isoformat()}
    if isinstance(v, (list, tuple)): return {"array": [tag(e) for e in v]}
    if isinstance(v, dict): return {"struct": {k: tag(e) for k, e in v.items()}}
    raise TypeError(type(v))

for path in sys.stdin.read().split():
    with open(path, "rb") as f:
        body = f.read()
    try:
        params, method = xc.loads(body, use_builtin_types=True)
        out = {"method": method, "params": [tag(p) for p in params]}
    except xc.Fault as e:
        out = {"code": e.faultCode, "message": e.faultString}
    except Exception as e:
        out = {"error": repr(e)}
    print(json.dumps(out))
`

// pythonResult is one line pythonLoads prints.
type pythonResult struct {
	Method  *string           `json:"method"`
	Params  []json.RawMessage `json:"params"`
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Error   string            `json:"error"`
}

// pythonCase is a body we encoded and what Python should read from it.
type pythonCase struct {
	name   string
	body   []byte
	method string // empty for a response
	params []any  // args, or the one result
	fault  *transport.RemoteError
}

// runPythonLoads has Python load every body and returns its readings in
// order.
func runPythonLoads(t *testing.T, cases []pythonCase) []pythonResult {
	t.Helper()
	dir := t.TempDir()
	var list bytes.Buffer
	for i, c := range cases {
		p := filepath.Join(dir, fmt.Sprintf("%04d.xml", i))
		require.NoError(t, os.WriteFile(p, c.body, 0o600))
		list.WriteString(p + "\n")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Python(t), "-c", pythonLoads)
	cmd.Stdin = &list
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "python: %s", stderr.String())
	var results []pythonResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r pythonResult
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), sc.Text())
		results = append(results, r)
	}
	require.NoError(t, sc.Err())
	require.Len(t, results, len(cases))
	return results
}

// TestPythonLoadsOurBodies encodes calls, replies and faults with our
// codec and checks that Python's xmlrpc.client reads back the same values.
func TestPythonLoadsOurBodies(t *testing.T) {
	testenv.Python(t)
	c := Codec{}
	var cases []pythonCase
	addCall := func(name, method string, args []any) {
		body, err := c.AppendCall(nil, method, args)
		require.NoError(t, err, name)
		cases = append(cases, pythonCase{name: name, body: body, method: method, params: args})
	}
	addReply := func(name string, result any) {
		body, err := c.AppendReply(nil, result)
		require.NoError(t, err, name)
		cases = append(cases, pythonCase{name: name, body: body, params: []any{result}})
	}

	tm := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
	addCall("fun_add", "fun_add", []any{int64(2), int64(3)})
	addCall("int32 edge", "fun_add", []any{int64(math.MaxInt32), int64(1)})
	addCall("i8", "m", []any{int64(math.MaxInt32) + 1, int64(math.MinInt64), int64(math.MaxInt64)})
	addCall("no args", "system.listMethods", nil)
	addCall("strings", "m", []any{"", "a<b>&c'\"", "tab\there\nnl\r\ncrlf\rcr", "ünïcödé ✓ 😀", "  padded  "})
	addCall("doubles", "m", []any{0.1, -1.5, 1e21, 1.5e-7, 3.0, 5e-324, math.MaxFloat64, 1e16, 1e15})
	addCall("misc", "m", []any{nil, true, false, []byte{}, []byte("\x00\xffbinary"), tm})
	addCall("nested", "m", []any{map[string]any{"a<&>": []any{int64(1), map[string]any{"": nil}}, "b": []any{}}})
	addReply("reply int", int64(5))
	addReply("reply struct", map[string]any{"x": 1.5, "y": "z"})
	addReply("reply nil", nil)
	fault := &transport.RemoteError{Code: transport.CodeMethodNotFound, Message: "no <such> method & more"}
	cases = append(cases, pythonCase{name: "fault", body: c.AppendFault(nil, fault), fault: fault})

	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		addCall(fmt.Sprintf("random call %d", i), randomMethod(r), randomArgs(r))
		addReply(fmt.Sprintf("random reply %d", i), randomValue(r, 3))
	}

	for i, got := range runPythonLoads(t, cases) {
		want := cases[i]
		require.Empty(t, got.Error, "%s: Python could not read\n%s", want.name, want.body)
		if want.fault != nil {
			assert.Equal(t, want.fault.Code, got.Code, want.name)
			assert.Equal(t, want.fault.Message, got.Message, want.name)
			continue
		}
		if want.method != "" {
			require.NotNil(t, got.Method, want.name)
			assert.Equal(t, want.method, *got.Method, want.name)
		} else {
			assert.Nil(t, got.Method, want.name)
		}
		params := make([]any, 0, len(got.Params))
		for _, p := range got.Params {
			v, err := untag(p)
			require.NoError(t, err)
			params = append(params, v)
		}
		if len(want.params) == 0 {
			assert.Empty(t, params, want.name)
			continue
		}
		assert.Equal(t, want.params, params, "%s\n%s", want.name, want.body)
	}
}
