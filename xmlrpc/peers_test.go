package xmlrpc_test

// Interop with the XML-RPC libraries of other languages, both ways (issue
// 11): PHP's xmlrpc extension (with its default options and with UTF-8
// output), Ruby's xmlrpc gem on WEBrick, npm's xmlrpc on Node, and
// Python's xmlrpc.client as the reference. The peer programs live in
// testdata/peers (each program says how to run it in its header). What a
// peer library cannot do is asserted as such, so that a change in it, or
// in us, shows.

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/examples/funcs"
	"github.com/rpcwire/rpcwire/internal/testenv"
	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc"
)

const (
	peersDir      = "testdata/peers"
	peerRunLimit  = 3 * time.Minute  // one peer client's whole run of cases.json
	peerReadyWait = 20 * time.Second // a peer server's start
)

// peerServer is our server for the peer clients: the article's functions,
// introspection, multicall, echo and fault(code, msg), as the peer
// servers have them. It keeps every string echo was given.
type peerServer struct {
	addr   string
	mu     sync.Mutex
	echoed []string
}

func startPeerServer(t *testing.T) *peerServer {
	t.Helper()
	ps := &peerServer{}
	reg := funcs.NewRegistry()
	reg.MustRegister("echo", func(v any) any {
		if s, ok := v.(string); ok {
			ps.mu.Lock()
			ps.echoed = append(ps.echoed, s)
			ps.mu.Unlock()
		}
		return v
	})
	reg.MustRegister("fault", func(code int, msg string) error { return &transport.RemoteError{Code: code, Message: msg} })
	ts := &testServer{reg: reg}
	ps.addr = ts.listen(t, "http://127.0.0.1:0/").Addr()
	return ps
}

// strings returns the strings echo was given since the last call.
func (ps *peerServer) strings() []string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	s := ps.echoed
	ps.echoed = nil
	return s
}

// caseLine is one line a peer client prints per case of cases.json.
type caseLine struct {
	Case        string `json:"case"`
	OK          bool   `json:"ok"`
	Result      any    `json:"result"`
	FaultCode   *int   `json:"fault_code"`
	FaultString string `json:"fault_string"`
	Error       string `json:"error"`
}

// peerCases are the case names of cases.json, in order.
func peerCases(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(peersDir, "cases.json"))
	require.NoError(t, err)
	var doc struct {
		Cases []struct{ Case string } `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	names := make([]string, len(doc.Cases))
	for i, c := range doc.Cases {
		names[i] = c.Case
	}
	return names
}

// shortfall is how a case of cases.json fails with a peer client, by the
// peer library's own limits: the client reports result (when set), or an
// error holding errText.
type shortfall struct {
	result  any
	errText string
	why     string
}

// The known limitations of each peer client against a server that does
// everything cases.json asks (ours); every other case must pass.
var (
	phpClientShortfalls = map[string]shortfall{
		"big_int":           {errText: "xmlrpc_decode returned NULL", why: "PHP cannot read <i8>"},
		"echo_int64":        {result: -2147483648.0, why: "PHP writes ints as 32-bit <int>, wrapping"},
		"echo_double_small": {result: 0.0, why: "PHP prints doubles with %f: -0.000000"},
		"echo_struct_empty": {result: []any{}, why: "PHP writes an empty struct as an empty array"},
		"echo_nil":          {result: "", why: "PHP writes null as <string/>"},
	}
	rubyClientShortfalls = map[string]shortfall{
		"echo_int64": {errText: "Integer is too big! Must be signed 32-bit integer!", why: "Ruby writes 32-bit integers only"},
		"echo_nil":   {errText: "Wrong type NilClass. Not allowed!", why: "Ruby has no nil by default"},
	}
	nodeClientShortfalls = map[string]shortfall{
		"big_int":    {result: "2147483648", why: "Node reads <i8> as a string"},
		"echo_int64": {result: "2147483648", why: "Node sends <int>2147483648</int>, we answer <i8>, which Node reads as a string"},
	}
	pythonClientShortfalls = map[string]shortfall{
		"echo_int64": {errText: "OverflowError: int exceeds XML-RPC limits", why: "Python writes 32-bit integers only"},
		"echo_nil":   {errText: "cannot marshal None unless allow_none is enabled", why: "allow_none is off by default"},
	}
)

// TestPeerClientsCallUs runs each peer's client through cases.json
// against our server: every case passes but for the peer's own
// limitations, asserted as they are.
func TestPeerClientsCallUs(t *testing.T) {
	clients := []struct {
		name       string
		cmd        func(t *testing.T, url string) *exec.Cmd
		shortfalls map[string]shortfall
		// sentString is how "héllo <&> 世界" (echo_string) reaches us.
		sentString string
	}{
		{"php, default options", func(t *testing.T, url string) *exec.Cmd {
			return exec.Command(testenv.PHP(t), "php/xmlrpc_client.php", url, "default")
		}, phpClientShortfalls, mojibake},
		{"php, utf-8 output", func(t *testing.T, url string) *exec.Cmd {
			return exec.Command(testenv.PHP(t), "php/xmlrpc_client.php", url, "utf8")
		}, phpClientShortfalls, "héllo <&> 世界"},
		{"ruby", func(t *testing.T, url string) *exec.Cmd {
			return exec.Command(testenv.Ruby(t, "xmlrpc/client", "json"), "ruby/xmlrpc_client.rb", url)
		}, rubyClientShortfalls, "héllo <&> 世界"},
		{"node", func(t *testing.T, url string) *exec.Cmd {
			return exec.Command(testenv.Node(t, filepath.Join(peersDir, "node"), "xmlrpc"), "node/xmlrpc_client.js", url)
		}, nodeClientShortfalls, "héllo <&> 世界"},
		{"python (reference)", func(t *testing.T, url string) *exec.Cmd {
			return exec.Command(testenv.Python(t), "python/xmlrpc_client.py", url)
		}, pythonClientShortfalls, "héllo <&> 世界"},
	}
	cases := peerCases(t)
	ps := startPeerServer(t)
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			cmd := c.cmd(t, ps.addr)
			cmd.Dir = peersDir
			cmd.Env = append(os.Environ(), "TZ=UTC")
			ps.strings()
			lines := parseCaseLines(t, testenv.Run(t, cmd, peerRunLimit))
			var names []string
			for _, l := range lines {
				name := strings.TrimPrefix(l.Case, "utf8:")
				names = append(names, name)
				sf, known := c.shortfalls[name]
				if !known {
					assert.True(t, l.OK, "case %s: %+v", name, l)
					continue
				}
				assert.False(t, l.OK, "case %s now passes (%s): update the known limitations", name, sf.why)
				if sf.errText != "" {
					assert.Contains(t, l.Error, sf.errText, "case %s: %s", name, sf.why)
				} else {
					assert.Equal(t, sf.result, l.Result, "case %s: %s", name, sf.why)
				}
			}
			assert.Equal(t, cases, names, "one line per case of cases.json")
			assert.Contains(t, ps.strings(), c.sentString, "what echo_string sent us")
		})
	}
}

func parseCaseLines(t *testing.T, out string) []caseLine {
	t.Helper()
	var lines []caseLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l caseLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "line %q", sc.Text())
		lines = append(lines, l)
	}
	return lines
}

// startPeer runs a peer XML-RPC server and returns its URL. The program
// prints "ready PORT" once it listens; port is the port to ask for ("0":
// any free one).
func startPeer(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = peersDir
	cmd.Env = append(os.Environ(), "TZ=UTC") // Node reads and writes dateTime in local time
	_, port := testenv.Start(t, cmd, "ready ", peerReadyWait)
	return "http://127.0.0.1:" + port + "/"
}

// freePort returns a port that was free a moment ago, for php -S, which
// cannot pick one itself.
func freePort(t *testing.T) string {
	t.Helper()
	_, port, err := net.SplitHostPort(closedAddr(t))
	require.NoError(t, err)
	return port
}

// outcome is what one call gets: a result, a fault with a code and text,
// or an error that errors.Is matches.
type outcome struct {
	result any
	fault  int
	text   string // in the fault's message or the error's
	is     error
}

// peerCall is one call our client makes to every peer server: what a
// server without limits answers, and what the peers whose libraries have
// limits answer instead.
type peerCall struct {
	name   string
	method string
	args   []any
	want   outcome
	peers  map[string]outcome // by peer server name
}

var (
	when       = time.Date(2026, 11, 25, 13, 55, 16, 0, time.UTC)
	unicodeStr = "héllo <&> 世界"
	structArg  = map[string]any{"name": "x", "n": int64(1), "nested": map[string]any{"list": []any{int64(1), int64(2)}, "m": map[string]any{"k": "v"}}}
	multicall3 = []any{
		map[string]any{"methodName": "fun_add", "params": []any{2, 3}},
		map[string]any{"methodName": "fib", "params": []any{-1}},
		map[string]any{"methodName": "fib", "params": []any{7}},
	}
	multicall3Result = []any{[]any{int64(5)},
		map[string]any{"faultCode": int64(-32602), "faultString": "fib(-1): n must not be negative"}, []any{int64(13)}}
)

// peerCalls are the calls our client makes to each peer server, with the
// peer libraries' limitations. Peer servers: "php" (default options),
// "php-utf8", "ruby", "node".
var peerCalls = []peerCall{
	{name: "fun_add", method: "fun_add", args: []any{2, 3}, want: outcome{result: int64(5)}},
	{name: "fib", method: "fib", args: []any{7}, want: outcome{result: int64(13)}},
	{name: "fault with a code", method: "fib", args: []any{-1}, want: outcome{fault: -32602, text: "fib(-1): n must not be negative", is: transport.ErrInvalidParams}},
	{name: "fault of the method", method: "fault", args: []any{42, "boom <&> é"}, want: outcome{fault: 42, text: "boom <&> é"}},
	{name: "int32 overflow", method: "fun_add", args: []any{2147483647, 1}, want: outcome{result: int64(2147483648)}, peers: map[string]outcome{
		"php":      {result: int64(-2147483648)}, // PHP's ints are 32-bit on the wire, wrapping
		"php-utf8": {result: int64(-2147483648)},
		"ruby":     {is: transport.ErrInternal, text: "HTTP 500 Internal Server Error"}, // "Integer is too big!"
	}},
	{name: "i8", method: "echo", args: []any{int64(1) << 40}, want: outcome{result: int64(1) << 40}, peers: map[string]outcome{
		"php":      {result: ""}, // PHP reads <i8> as nothing
		"php-utf8": {result: ""},
		"ruby":     {is: transport.ErrInternal, text: "HTTP 500 Internal Server Error"}, // reads <i8>, cannot write it back
		"node":     {result: "1099511627776"},                                           // Node reads <i8> as a string
	}},
	{name: "unknown method", method: "no_such_method", args: nil, want: outcome{is: transport.ErrMethodNotFound}, peers: map[string]outcome{
		"node": {is: transport.ErrNotFound, text: "HTTP 404 Not Found for /"}, // an empty 404, not a fault
	}},
	{name: "string", method: "echo", args: []any{unicodeStr}, want: outcome{result: unicodeStr}, peers: map[string]outcome{
		// PHP's default server turns what it reads into ISO-8859-1:
		// é survives, 世界 comes back one character per UTF-8 byte.
		"php": {result: "héllo <&> \u00e4\u00b8\u0096\u00e7\u0095\u008c"},
	}},
	{name: "empty string", method: "echo", args: []any{""}, want: outcome{result: ""}},
	{name: "double", method: "echo", args: []any{3.25}, want: outcome{result: 3.25}},
	{name: "small double", method: "echo", args: []any{-1e-7}, want: outcome{result: -1e-7}, peers: map[string]outcome{
		"php":      {result: 0.0}, // %f: -0.000000
		"php-utf8": {result: 0.0},
	}},
	{name: "big double", method: "echo", args: []any{1e300}, want: outcome{result: 1e300}}, // Node answers <int>1e+300</int>
	{name: "true", method: "echo", args: []any{true}, want: outcome{result: true}},
	{name: "false", method: "echo", args: []any{false}, want: outcome{result: false}},
	{name: "base64", method: "echo", args: []any{[]byte{0, 1, 2, 255}}, want: outcome{result: []byte{0, 1, 2, 255}}, peers: map[string]outcome{
		"ruby": {is: transport.ErrParse, text: "invalid UTF-8"}, // echoes the raw bytes as a <string>: not XML
	}},
	{name: "dateTime", method: "echo", args: []any{when}, want: outcome{result: when}},
	{name: "array", method: "echo", args: []any{[]any{1, "two", 3.5, true, []any{4, 5}}},
		want: outcome{result: []any{int64(1), "two", 3.5, true, []any{int64(4), int64(5)}}}},
	{name: "empty array", method: "echo", args: []any{[]any{}}, want: outcome{result: []any{}}},
	{name: "struct", method: "echo", args: []any{structArg}, want: outcome{result: structArg}},
	{name: "empty struct", method: "echo", args: []any{map[string]any{}}, want: outcome{result: map[string]any{}}, peers: map[string]outcome{
		"php":      {result: []any{}}, // an empty PHP array is written as an array
		"php-utf8": {result: []any{}},
	}},
	{name: "nil", method: "echo", args: []any{nil}, want: outcome{result: nil}, peers: map[string]outcome{
		"php":      {result: ""}, // reads <nil/> as null, writes null as <string/>
		"php-utf8": {result: ""},
		"ruby":     {is: transport.ErrInternal, text: "HTTP 500 Internal Server Error"}, // "wrong/unknown XML-RPC type 'nil'"
	}},
	{name: "listMethods", method: registry.ListMethods, want: outcome{result: []string{"fib", "fun_add"}}, peers: map[string]outcome{
		"node": {is: transport.ErrNotFound}, // no introspection
	}},
	{name: "multicall", method: registry.Multicall, args: []any{multicall3}, want: outcome{result: multicall3Result}, peers: map[string]outcome{
		"php":      {is: transport.ErrMethodNotFound, text: "system.multicall"}, // PHP has system.multiCall instead
		"php-utf8": {is: transport.ErrMethodNotFound, text: "system.multicall"},
		"node":     {is: transport.ErrNotFound}, // no multicall
	}},
	{name: "PHP's multiCall", method: "system.multiCall", args: []any{multicall3}, want: outcome{is: transport.ErrMethodNotFound}, peers: map[string]outcome{
		// A method's fault comes back as a result: [{faultCode, faultString}].
		"php":      {result: []any{multicall3Result[0], []any{multicall3Result[1]}, multicall3Result[2]}},
		"php-utf8": {result: []any{multicall3Result[0], []any{multicall3Result[1]}, multicall3Result[2]}},
		"node":     {is: transport.ErrNotFound},
	}},
}

// TestWeCallPeerServers calls each peer's server with our client:
// every call gets its answer but for the peer library's limitations,
// asserted as they are.
func TestWeCallPeerServers(t *testing.T) {
	servers := []struct {
		name  string
		start func(t *testing.T) string
		// conns is how many calls at once the server takes: WEBrick, under
		// Ruby's server, serves 4 connections (XMLRPC::Server.new's
		// default), and a client's kept-alive ones count; a call on a fifth
		// waits unaccepted until one closes.
		conns int
	}{
		{"php", func(t *testing.T) string {
			return startPeer(t, testenv.PHP(t), "php/xmlrpc_server.php", freePort(t), "default")
		}, 20},
		{"php-utf8", func(t *testing.T) string {
			return startPeer(t, testenv.PHP(t), "php/xmlrpc_server.php", freePort(t), "utf8")
		}, 20},
		{"ruby", func(t *testing.T) string {
			return startPeer(t, testenv.Ruby(t, "xmlrpc/server", "webrick"), "ruby/xmlrpc_server.rb", "0")
		}, 4},
		{"node", func(t *testing.T) string {
			return startPeer(t, testenv.Node(t, filepath.Join(peersDir, "node"), "xmlrpc"), "node/xmlrpc_server.js", "0")
		}, 20},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			c := dial(t, srv.start(t))
			for _, pc := range peerCalls {
				want := pc.want
				if o, ok := pc.peers[srv.name]; ok {
					want = o
				}
				var got any
				err := c.Call(ctxT(t), pc.method, pc.args, &got)
				checkOutcome(t, srv.name+": "+pc.name, want, got, err)
			}
			// Many calls at once on one client.
			var wg sync.WaitGroup
			for i := range srv.conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var n int
					if assert.NoError(t, c.Call(ctxT(t), "fun_add", []any{i, 1000}, &n)) {
						assert.Equal(t, i+1000, n)
					}
				}()
			}
			wg.Wait()
		})
	}
}

func checkOutcome(t *testing.T, what string, want outcome, got any, err error) {
	t.Helper()
	if want.fault == 0 && want.is == nil && want.text == "" {
		if !assert.NoError(t, err, what) {
			return
		}
		switch w := want.result.(type) {
		case time.Time:
			tm, ok := got.(time.Time)
			assert.True(t, ok && tm.Equal(w), "%s: want %v, got %v", what, w, got)
		case []string: // a list holding these
			for _, s := range w {
				assert.Contains(t, got, s, what)
			}
		default:
			assert.Equal(t, want.result, got, what)
		}
		return
	}
	require.Error(t, err, "%s: got %#v", what, got)
	if want.fault != 0 {
		var re *transport.RemoteError
		if assert.ErrorAs(t, err, &re, what) {
			assert.Equal(t, want.fault, re.Code, what)
		}
	}
	if want.is != nil {
		assert.ErrorIs(t, err, want.is, what)
	}
	if want.text != "" {
		assert.Contains(t, err.Error(), want.text, what)
	}
	var se *xmlrpc.StatusError
	if errors.As(err, &se) {
		assert.NotErrorIs(t, err, transport.ErrNoServer, "%s: a server answered", what)
	}
}
