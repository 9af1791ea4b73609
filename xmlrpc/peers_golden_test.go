package xmlrpc_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

// goldenPeer reads a raw body the peers wrote (testdata/peers/golden, see
// its README).
func goldenPeer(t *testing.T, name string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "peers", "golden", name))
	require.NoError(t, err)
	return body
}

// mojibake is "héllo <&> 世界" as a PHP program with default options
// sends it: every byte of its UTF-8 string escaped as a character
// reference of its own, so that any XML reader sees one character per
// byte.
const mojibake = "h\u00c3\u00a9llo <&> \u00e4\u00b8\u0096\u00e7\u0095\u008c"

// TestPeerGoldenCalls decodes the calls the peers sent, byte for byte.
func TestPeerGoldenCalls(t *testing.T) {
	tests := []struct {
		file   string
		method string
		args   []any
	}{
		{"php_call_default.xml", "fun_add", []any{int64(2), int64(3)}}, // declares encoding="iso-8859-1"
		{"php_call_default_string.xml", "echo", []any{mojibake}},
		{"php_call_default_int64.xml", "echo", []any{int64(-2147483648)}}, // PHP wrapped 2147483648 to 32 bits
		{"php_call_default_double_small.xml", "echo", []any{float64(0)}},  // -1e-7 printed with %f
		{"php_call_default_base64.xml", "echo", []any{[]byte{0, 1, 2, 255}}},
		{"php_call_default_nil.xml", "echo", []any{""}},               // null written as <string/>
		{"php_call_default_struct_empty.xml", "echo", []any{[]any{}}}, // {} written as an empty array
		{"php_call_default_multicall.xml", "system.multicall", []any{[]any{
			map[string]any{"methodName": "fun_add", "params": []any{int64(2), int64(3)}},
			map[string]any{"methodName": "fib", "params": []any{int64(-1)}},
			map[string]any{"methodName": "fib", "params": []any{int64(7)}},
		}}},
		{"php_call_utf8_string.xml", "echo", []any{"héllo <&> 世界"}},
		{"python_call_string.xml", "echo", []any{"héllo <&> 世界"}},
		{"ruby_call.xml", "fun_add", []any{int64(2), int64(3)}},       // <i4>
		{"ruby_call_double_small.xml", "echo", []any{-1e-7}},          // -1.0e-07
		{"node_call.xml", "fun_add", []any{int64(2), int64(3)}},       // one line
		{"node_call_string_cdata.xml", "echo", []any{"héllo <&> 世界"}}, // CDATA
		{"node_call_double_big.xml", "echo", []any{1e300}},            // <int>1e+300</int>
		{"node_call_nil.xml", "echo", []any{nil}},                     // <nil/>
		{"node_call_no_params.xml", "no_such_method", nil},            // <params/>
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			method, args, err := xmlcodec.Codec{}.DecodeCall(goldenPeer(t, tt.file))
			require.NoError(t, err)
			assert.Equal(t, tt.method, method)
			assert.Equal(t, tt.args, args)
		})
	}
}

// TestPeerGoldenReplies decodes the replies the peers' servers sent.
func TestPeerGoldenReplies(t *testing.T) {
	tests := []struct {
		file  string
		want  any
		fault *transport.RemoteError
		err   string // a body that is not XML-RPC
	}{
		// Ruby's server echoes <base64> as a <string> of the raw bytes:
		// not XML (Python and Ruby refuse it too).
		{file: "ruby_response_base64_echo.xml", err: "invalid UTF-8"},
		{file: "php_response_default.xml", want: int64(5)},
		{file: "php_response_default.txt", want: int64(5)},                                                // charset=UTF-8 in the header; the body's declaration wins
		{file: "php_response_default_string.xml", want: "héllo <&> \u00e4\u00b8\u0096\u00e7\u0095\u008c"}, // é right, 世界 per byte
		{file: "php_response_default_int_overflow.xml", want: int64(-2147483648)},
		{file: "php_response_default_i8.xml", want: ""}, // PHP read our <i8> as nothing
		{file: "php_response_default_fault.xml", fault: &transport.RemoteError{Code: -32602, Message: "fib(-1): n must not be negative"}},
		{file: "php_response_default_unknown_method.xml", fault: &transport.RemoteError{Code: -32601, Message: "server error. method not found.\n\nno_such_method"}},
		{file: "php_response_default_multicall.xml", fault: &transport.RemoteError{Code: -32601, Message: "server error. method not found.\n\nsystem.multicall"}},
		{file: "php_response_utf8_string.xml", want: "héllo <&> 世界"},
		{file: "ruby_response.xml", want: int64(5)},
		{file: "ruby_response_fault.xml", fault: &transport.RemoteError{Code: -32602, Message: "fib(-1): n must not be negative"}},
		{file: "ruby_response_unknown_method.xml", fault: &transport.RemoteError{Code: 1, Message: "Method no_such_method missing or wrong number of parameters!"}},
		{file: "ruby_response_multicall.xml", want: []any{[]any{int64(5)},
			map[string]any{"faultCode": int64(-32602), "faultString": "fib(-1): n must not be negative"}, []any{int64(13)}}},
		{file: "node_response.xml", want: int64(5)},
		{file: "node_response_i8_echo.xml", want: "2147483648"},     // Node read <i8> as a string
		{file: "node_response_fun_add_i8.xml", want: "21474836481"}, // and added it as one
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := goldenPeer(t, tt.file)
			if strings.HasSuffix(tt.file, ".txt") { // status line and headers first
				_, body, _ = bytes.Cut(body, []byte("\r\n\r\n"))
			}
			v, err := xmlcodec.Codec{}.DecodeReply(body)
			if tt.err != "" {
				require.ErrorIs(t, err, transport.ErrParse)
				assert.ErrorContains(t, err, tt.err)
				return
			}
			if tt.fault != nil {
				var re *transport.RemoteError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, tt.fault, re)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, v)
		})
	}
}

// TestPeerUnknownMethodFaults: each peer server's answer to an unknown
// method is recognised as transport.ErrMethodNotFound.
func TestPeerUnknownMethodFaults(t *testing.T) {
	for _, file := range []string{"php_response_default_unknown_method.xml", "ruby_response_unknown_method.xml"} {
		_, err := xmlcodec.Codec{}.DecodeReply(goldenPeer(t, file))
		assert.ErrorIs(t, err, transport.ErrMethodNotFound, file)
	}
}
