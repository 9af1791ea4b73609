package xmlcodec

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// pyFunAdd is what Python's xmlrpc.client sends for fun_add(2, 3).
const pyFunAdd = `<?xml version='1.0'?>
<methodCall>
<methodName>fun_add</methodName>
<params>
<param>
<value><int>2</int></value>
</param>
<param>
<value><int>3</int></value>
</param>
</params>
</methodCall>
`

func TestCodecNames(t *testing.T) {
	assert.Equal(t, "xml", Codec{}.Name())
	assert.Equal(t, "text/xml", Codec{}.ContentType())
}

func TestDecodeCallPython(t *testing.T) {
	method, args, err := Codec{}.DecodeCall([]byte(pyFunAdd))
	require.NoError(t, err)
	assert.Equal(t, "fun_add", method)
	assert.Equal(t, []any{int64(2), int64(3)}, args)
}

func value(s string) string {
	return "<methodCall><methodName>m</methodName><params><param>" + s + "</param></params></methodCall>"
}

func TestDecodeValues(t *testing.T) {
	tm := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"int", "<value><int>42</int></value>", int64(42)},
		{"i4 negative", "<value><i4>-7</i4></value>", int64(-7)},
		{"i8 big", "<value><i8>9223372036854775807</i8></value>", int64(math.MaxInt64)},
		{"i8 min", "<value><i8>-9223372036854775808</i8></value>", int64(math.MinInt64)},
		{"ex:i8", "<value><ex:i8>5000000000</ex:i8></value>", int64(5000000000)},
		{"int plus and spaces", "<value><int> +3 </int></value>", int64(3)},
		{"int beyond 32 bits, as Python and Node read it", "<value><int>2147483648</int></value>", int64(2147483648)},
		{"i4 beyond 32 bits", "<value><i4>-9223372036854775808</i4></value>", int64(math.MinInt64)},
		{"int beyond 64 bits: JavaScript's 1e300", "<value><int>1e+300</int></value>", 1e300},
		{"int beyond 64 bits, negative", "<value><int>-1e+21</int></value>", -1e21},
		{"int beyond 64 bits, in digits", "<value><i4>100000000000000000000</i4></value>", 1e20},
		{"true", "<value><boolean>1</boolean></value>", true},
		{"false", "<value><boolean>0</boolean></value>", false},
		{"string", "<value><string>a &lt;b&gt; &amp; &apos;c&apos; &quot;d&quot;</string></value>", `a <b> & 'c' "d"`},
		{"char refs", "<value><string>&#65;&#x42;&#x1F600;</string></value>", "AB😀"},
		{"cdata", "<value><string>x<![CDATA[<&>]]>y</string></value>", "x<&>y"},
		{"comment in text", "<value><string>a<!-- c -->b</string></value>", "ab"},
		{"crlf normalised", "<value><string>a\r\nb\rc</string></value>", "a\nb\nc"},
		{"char ref cr kept", "<value><string>a&#13;b</string></value>", "a\rb"},
		{"unicode", "<value><string>héllo wörld ✓</string></value>", "héllo wörld ✓"},
		{"empty string", "<value><string></string></value>", ""},
		{"empty string tag", "<value><string/></value>", ""},
		{"bare text", "<value>plain</value>", "plain"},
		{"bare text spaces", "<value>  sp  </value>", "  sp  "},
		{"empty value", "<value></value>", ""},
		{"empty value tag", "<value/>", ""},
		{"double", "<value><double>1.5</double></value>", 1.5},
		{"double exp", "<value><double>1e+21</double></value>", 1e21},
		{"double neg", "<value><double>-0.25</double></value>", -0.25},
		{"datetime python", "<value><dateTime.iso8601>20060102T15:04:05</dateTime.iso8601></value>", tm},
		{"datetime dashed", "<value><dateTime.iso8601>2006-01-02T15:04:05</dateTime.iso8601></value>", tm},
		{"datetime zone", "<value><dateTime.iso8601>2006-01-02T15:04:05Z</dateTime.iso8601></value>", tm},
		{"base64", "<value><base64>aGVsbG8=</base64></value>", []byte("hello")},
		{"base64 python lines", "<value><base64>\naGVs\nbG8=\n</base64></value>", []byte("hello")},
		{"base64 empty", "<value><base64></base64></value>", []byte{}},
		{"nil", "<value><nil/></value>", nil},
		{"nil open close", "<value><nil></nil></value>", nil},
		{"ex:nil", "<value><ex:nil/></value>", nil},
		{"array", "<value><array><data><value><int>1</int></value><value>x</value></data></array></value>", []any{int64(1), "x"}},
		{"empty array", "<value><array><data></data></array></value>", []any{}},
		{"empty array data tag", "<value><array><data/></array></value>", []any{}},
		{"struct", "<value><struct><member><name>a</name><value><int>1</int></value></member><member><name>b</name><value><struct></struct></value></member></struct></value>", map[string]any{"a": int64(1), "b": map[string]any{}}},
		{"nested", `<value><struct>
  <member><name>list</name><value><array><data>
    <value><array><data><value><boolean>1</boolean></value></data></array></value>
    <value><struct><member><name>k&amp;</name><value/></member></struct></value>
  </data></array></value></member>
</struct></value>`, map[string]any{"list": []any{[]any{true}, map[string]any{"k&": ""}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, args, err := Codec{}.DecodeCall([]byte(value(tt.in)))
			require.NoError(t, err)
			require.Len(t, args, 1)
			assert.Equal(t, tt.want, args[0])
		})
	}
}

func TestDecodeReply(t *testing.T) {
	c := Codec{}
	v, err := c.DecodeReply([]byte("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>5</int></value>\n</param>\n</params>\n</methodResponse>\n"))
	require.NoError(t, err)
	assert.Equal(t, int64(5), v)

	v, err = c.DecodeReply([]byte("<methodResponse><params></params></methodResponse>"))
	require.NoError(t, err)
	assert.Nil(t, v)

	_, err = c.DecodeReply([]byte(`<?xml version='1.0'?>
<methodResponse>
<fault>
<value><struct>
<member>
<name>faultCode</name>
<value><int>1</int></value>
</member>
<member>
<name>faultString</name>
<value><string>boom &lt;x&gt;</string></value>
</member>
</struct></value>
</fault>
</methodResponse>
`))
	var re *transport.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, &transport.RemoteError{Code: 1, Message: "boom <x>"}, re)
}

func TestDecodeErrors(t *testing.T) {
	deep := strings.Repeat("<value><array><data>", 100_000)
	tests := []struct {
		name, in, msg string
	}{
		{"empty", "", "end of input"},
		{"doctype", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>` + value("<value>&a;</value>"), "DOCTYPE"},
		{"entity", value("<value>&a;</value>"), "unknown entity"},
		{"bad utf8", value("<value>\xff</value>"), "invalid UTF-8"},
		{"control char", value("<value>\x01</value>"), "control character"},
		{"bad char ref", value("<value>&#0;</value>"), "character reference"},
		{"truncated", pyFunAdd[:len(pyFunAdd)-20], "end of input"},
		{"unknown tag", value("<value><decimal>1</decimal></value>"), "unknown value type <decimal>"},
		{"misplaced struct child", value("<value><struct><value/></struct></value>"), "want <member>"},
		{"unknown root", "<foo/>", "want <methodCall>"},
		{"int overflow", value("<value><i8>9223372036854775808</i8></value>"), "not a 64-bit integer"},
		{"i8 in exponent form", value("<value><i8>1e+300</i8></value>"), "not a 64-bit integer"},
		{"int with a fraction", value("<value><int>2.5</int></value>"), "not a 64-bit integer"},
		{"int in exponent form, within 64 bits", value("<value><int>1e3</int></value>"), "not a 64-bit integer"},
		{"int infinite", value("<value><int>Infinity</int></value>"), "not a 64-bit integer"},
		{"int junk", value("<value><int>12a</int></value>"), "not a 64-bit integer"},
		{"bool junk", value("<value><boolean>true</boolean></value>"), "not 0 or 1"},
		{"double junk", value("<value><double>0x1p3</double></value>"), "not a number"},
		{"bad date", value("<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>"), "dateTime"},
		{"bad base64", value("<value><base64>!!!</base64></value>"), "base64"},
		{"mismatched", value("<value><int>1</i4></value>"), "want </int>"},
		{"text before type", value("<value>x<int>1</int></value>"), "text"},
		{"trailing", pyFunAdd + "<x/>", "after the root element"},
		{"deep", value(deep), "nested deeper than 100"},
		{"no method", "<methodCall><methodName></methodName></methodCall>", "empty method name"},
		{"late decl", "<methodCall><?xml version='1.0'?></methodCall>", "XML declaration"},
		{"cdata end in text", value("<value>a]]>b</value>"), `"]]>" is not allowed`},
		{"two colons", value("<value><a:b:i8>1</a:b:i8></value>"), "qualified name"},
		{"double dash comment", "<!-- a -- b -->" + value("<value/>"), `"--" is not allowed`},
		{"control in comment", "<!-- \x01 -->" + value("<value/>"), "control character"},
		{"control in attribute", "<methodCall a='\x06'/>", "control character"},
		{"bad version", "<?xml version='0'?>" + value("<value/>"), "version 1.0"},
		{"pi without target", "<??>" + value("<value/>"), "processing instruction"},
		{"reference in attribute", `<methodCall a="&amp"/>`, "unterminated reference in attribute"},
		{"koi8-r", "<?xml version='1.0' encoding='koi8-r'?>" + value("<value/>"), `unsupported encoding "koi8-r" (the decoder reads UTF-8, UTF-16, US-ASCII, ISO-8859-1`},
		{"utf-16 not utf-16", "<?xml version='1.0' encoding='UTF-16'?>" + value("<value/>"), `encoding "UTF-16" declared, but the body is not UTF-16`},
		{"latin-1 after a utf-8 bom", "\xef\xbb\xbf<?xml version='1.0' encoding='latin1'?>" + value("<value/>"), "UTF-8 byte order mark"},
		{"utf-16 unpaired surrogate", "\xff\xfe<\x00\x00\xd8", "invalid UTF-16"},
		{"utf-16 odd length", "\xfe\xff\x00<\x00", "invalid UTF-16"},
		{"undeclared latin-1", value("<value>h\xe9</value>"), "a body in another encoding must declare it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Codec{}.DecodeCall([]byte(tt.in))
			require.Error(t, err)
			assert.ErrorIs(t, err, transport.ErrParse)
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Contains(t, err.Error(), "at byte")
		})
	}
}

func TestMaxElements(t *testing.T) {
	in := value("<value><array><data>" + strings.Repeat("<value><int>1</int></value>", 100) + "</data></array></value>")
	_, _, err := Codec{MaxElements: 50}.DecodeCall([]byte(in))
	require.ErrorIs(t, err, transport.ErrParse)
	assert.Contains(t, err.Error(), "too many elements")
	_, args, err := Codec{}.DecodeCall([]byte(in))
	require.NoError(t, err)
	assert.Len(t, args[0], 100)
}

func TestRoundTrip(t *testing.T) {
	tm := time.Date(2024, 2, 29, 23, 59, 58, 0, time.UTC)
	args := []any{
		nil, true, false, int64(0), int64(math.MaxInt32), int64(math.MaxInt32) + 1, int64(math.MinInt64),
		"", "a<b>&c\r\n\t'\"", "ünïcödé 😀", 0.1, -1e-300, 1e21, 5e-324, 3.0,
		[]byte{0, 1, 2, 255}, []byte{}, tm,
		[]any{}, []any{int64(1), []any{"x"}}, map[string]any{}, map[string]any{"z": int64(1), "a<": map[string]any{"b": nil}},
	}
	c := Codec{}
	body, err := c.AppendCall(nil, "ns.m&x", args)
	require.NoError(t, err)
	method, got, err := c.DecodeCall(body)
	require.NoError(t, err)
	assert.Equal(t, "ns.m&x", method)
	assert.Equal(t, args, got)

	for _, a := range args {
		body, err := c.AppendReply(nil, a)
		require.NoError(t, err)
		v, err := c.DecodeReply(body)
		require.NoError(t, err)
		assert.Equal(t, a, v)
	}
}

func TestEncodeConversions(t *testing.T) {
	type point struct {
		X, Y int
		Name string `rpc:"name"`
	}
	c := Codec{}
	tests := []struct {
		in   any
		want any
	}{
		{7, int64(7)},
		{int32(-7), int64(-7)},
		{uint8(200), int64(200)},
		{float32(0.5), 0.5},
		{[]string{"a", "b"}, []any{"a", "b"}},
		{[]int{1, 2}, []any{int64(1), int64(2)}},
		{[]float64{1.5}, []any{1.5}},
		{map[string]string{"b": "2", "a": "1"}, map[string]any{"a": "1", "b": "2"}},
		{map[string]int{"n": 1}, map[string]any{"n": int64(1)}},
		{point{1, 2, "p"}, map[string]any{"X": int64(1), "Y": int64(2), "name": "p"}},
		{&point{1, 2, "p"}, map[string]any{"X": int64(1), "Y": int64(2), "name": "p"}},
		{(*point)(nil), nil},
		{[]point{{}}, []any{map[string]any{"X": int64(0), "Y": int64(0), "name": ""}}},
		{time.Date(2020, 1, 1, 1, 0, 0, 999, time.FixedZone("X", 3600)), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		{errors.New("e"), "e"},
	}
	for _, tt := range tests {
		body, err := c.AppendReply(nil, tt.in)
		require.NoError(t, err, "%#v", tt.in)
		v, err := c.DecodeReply(body)
		require.NoError(t, err)
		assert.Equal(t, tt.want, v, "%#v", tt.in)
	}
}

func TestEncodeErrors(t *testing.T) {
	c := Codec{}
	loop := []any{nil}
	loop[0] = loop
	tests := []struct {
		name string
		in   any
		msg  string
	}{
		{"bad utf8", []any{"ok", "a\xffb"}, `args[0][1]: string "a\xffb" has invalid UTF-8 at byte 1`},
		{"control", map[string]any{"k": "a\x00"}, "args[0].k: string"},
		{"control in key", map[string]any{"k\x01": 1}, "member name"},
		{"nan", math.NaN(), "NaN"},
		{"inf", math.Inf(-1), "-Inf"},
		{"uint64", uint64(math.MaxUint64), "does not fit"},
		{"chan", make(chan int), "cannot encode"},
		{"cycle", loop, "nested deeper than 100"},
		{"year", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "outside 1..9999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := c.AppendCall(dst, "m", []any{tt.in})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Equal(t, "keep", string(out))
		})
	}
	_, err := c.AppendCall(nil, "m\x00", nil)
	assert.ErrorContains(t, err, "method name")
	_, err = c.AppendCall(nil, "", nil)
	assert.ErrorContains(t, err, "method name")
}

func TestFault(t *testing.T) {
	c := Codec{}
	body := c.AppendFault(nil, &transport.RemoteError{Code: transport.CodeMethodNotFound, Message: "no <such> method\x00\xff"})
	_, err := c.DecodeReply(body)
	var re *transport.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, transport.CodeMethodNotFound, re.Code)
	assert.Equal(t, "no <such> method\uFFFD\uFFFD", re.Message)
	assert.ErrorIs(t, err, transport.ErrMethodNotFound)

	_, err = c.DecodeReply(c.AppendFault(nil, nil))
	require.ErrorAs(t, err, &re)
	assert.Equal(t, transport.CodeInternal, re.Code)
}

func TestDoubleFormat(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", -2.5: "-2.5", 0.1: "0.1", 1e15: "1000000000000000.0", 1e16: "1e+16",
		1e21: "1e+21", 0.0001: "0.0001", 0.00001: "1e-05", 1.5e-7: "1.5e-07", 123456.789: "123456.789",
		math.MaxFloat64: "1.7976931348623157e+308", 5e-324: "5e-324",
	} {
		assert.Equal(t, want, string(appendDouble(nil, f)), "%g", f)
	}
}

func TestEncodeIntegerKinds(t *testing.T) {
	c := Codec{}
	for _, in := range []any{int8(-8), int16(-16), uint16(16), uint32(math.MaxUint32), uint(7), uint64(math.MaxInt64),
		[]int64{1}, []bool{true}, map[string]int64{"a": 1}, map[string]float64{"f": 0.5}} {
		body, err := c.AppendReply(nil, in)
		require.NoError(t, err, "%T", in)
		_, err = c.DecodeReply(body)
		require.NoError(t, err, "%T", in)
	}
	body, err := c.AppendReply(nil, uint32(math.MaxUint32))
	require.NoError(t, err)
	assert.Contains(t, string(body), "<i8>4294967295</i8>")
	_, err = c.AppendReply(nil, uint(math.MaxUint64))
	assert.ErrorContains(t, err, "result: 18446744073709551615 does not fit")
	_, err = c.AppendReply(nil, []float64{1, math.NaN()})
	assert.ErrorContains(t, err, "result[1]: double NaN")
	_, err = c.AppendReply(nil, map[string]float64{"x": math.Inf(1)})
	assert.ErrorContains(t, err, "result.x: double +Inf")
}

func TestDecodeMore(t *testing.T) {
	c := Codec{}
	_, args, err := c.DecodeCall([]byte(value("<value><string><![CDATA[a\r\nb\rc]]></string></value>")))
	require.NoError(t, err)
	assert.Equal(t, []any{"a\nb\nc"}, args)

	// Some peers send the fault code as a string.
	_, err = c.DecodeReply([]byte(`<methodResponse><fault><value><struct><member><name>faultCode</name><value><string>12</string></value></member></struct></value></fault></methodResponse>`))
	var re *transport.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, &transport.RemoteError{Code: 12}, re)

	// A fault without a code (npm xmlrpc writes a JavaScript Error as an
	// empty struct) is an application error.
	for in, want := range map[string]*transport.RemoteError{
		`<methodResponse><fault><value><struct/></value></fault></methodResponse>`: {Code: transport.CodeApplication,
			Message: "the server reported a fault without faultCode or faultString"},
		`<methodResponse><fault><value><struct></struct></value></fault></methodResponse>`: {Code: transport.CodeApplication,
			Message: "the server reported a fault without faultCode or faultString"},
		`<methodResponse><fault><value><struct><member><name>faultString</name><value>oops</value></member></struct></value></fault></methodResponse>`: {
			Code: transport.CodeApplication, Message: "oops"},
	} {
		_, err = c.DecodeReply([]byte(in))
		require.ErrorAs(t, err, &re, in)
		assert.Equal(t, want, re, in)
	}

	for in, msg := range map[string]string{
		`<methodResponse><fault><value><int>1</int></value></fault></methodResponse>`:                                                                                                                                            "fault value is not a struct",
		`<methodResponse><fault><value><struct><member><name>faultCode</name><value><double>1</double></value></member></struct></value></fault></methodResponse>`:                                                               "faultCode is not an integer",
		`<methodResponse><fault><value><struct><member><name>faultCode</name><value>x</value></member></struct></value></fault></methodResponse>`:                                                                                "faultCode \"x\"",
		`<methodResponse><fault><value><struct><member><name>faultCode</name><value><i8>99999999999</i8></value></member></struct></value></fault></methodResponse>`:                                                             "out of range",
		`<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><int>1</int></value></member></struct></value></fault></methodResponse>`: "faultString is not a string",
		`<methodResponse><params><param><value>1</value></param><param><value>2</value></param></params></methodResponse>`:                                                                                                       "found a second",
		`<methodResponse><foo/></methodResponse>`:                           "want <params> or <fault>",
		`<methodResponse><params/></methodResponse><methodResponse>`:        "after the root element",
		`<methodCall><methodName>m</methodName><value/></methodCall>`:       "want <params> or </methodCall>",
		`<methodCall><methodName>m</methodName><params><foo/></methodCall>`: "want <param> or </params>",
		`<methodCall a=1></methodCall>`:                                     "not quoted",
		`<methodCall a></methodCall>`:                                       "attribute without value",
		`<methodCall "a"></methodCall>`:                                     "invalid character",
		`<1methodCall/>`:                                                    "at the start of a name",
		`<methodCall a b></methodCall>`:                                     "attribute without value",
		`<methodCall a='<'></methodCall>`:                                   "'<' in attribute",
		`<methodCall/ >`:                                                    "malformed tag",
		`<methodCall><methodName>m</methodName></methodCall x>`:             "malformed end tag",
	} {
		_, err := c.DecodeReply([]byte(in))
		if strings.HasPrefix(in, "<methodCall") {
			_, _, err = c.DecodeCall([]byte(in))
		}
		require.ErrorIs(t, err, transport.ErrParse, in)
		assert.ErrorContains(t, err, msg, in)
	}

	// Attributes (namespace declarations) are ignored, empty params are none.
	method, args, err := c.DecodeCall([]byte(`<methodCall xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions" x = 'y'><methodName>m</methodName><params/></methodCall>`))
	require.NoError(t, err)
	assert.Equal(t, "m", method)
	assert.Empty(t, args)
}

// TestUnknownElements: where XML-RPC has only markup, elements it does not
// have are skipped with their content, as Python's xmlrpc.client does;
// inside <value>, misplaced XML-RPC elements and text stay errors (the
// accepted and refused bodies here are what Python 3.11 accepts and
// refuses, except where noted).
func TestUnknownElements(t *testing.T) {
	one := func(inner string) string {
		return "<methodResponse>" + inner + "</methodResponse>"
	}
	accepted := []struct {
		name, body string
		want       any
	}{
		{"in params", one("<params><extra>zz<b/></extra><param><value><int>1</int></value></param></params>"), int64(1)},
		{"in param", one("<params><param><x/><value><int>1</int></value><y a='1'>t</y></param></params>"), int64(1)},
		{"in member", one("<params><param><value><struct><member><doc>d</doc><name>a</name><v/><value><int>1</int></value><w/></member></struct></value></param></params>"),
			map[string]any{"a": int64(1)}},
		{"in struct", one("<params><param><value><struct><x/><member><name>a</name><value>1</value></member><y></y></struct></value></param></params>"),
			map[string]any{"a": "1"}},
		{"in data", one("<params><param><value><array><data><x>1</x><value><int>1</int></value><ex:y/></data></array></value></param></params>"), []any{int64(1)}},
		{"in array", one("<params><param><value><array><x/><data><value><int>1</int></value></data><y/></array></value></param></params>"), []any{int64(1)}},
		{"after params", one("<params><param><value><int>1</int></value></param></params><x><y/>text<![CDATA[<z>]]></x>"), int64(1)},
		{"before params", one("<debug>1</debug><params><param><value>ok</value></param></params>"), "ok"},
		{"in fault", one("<fault><x/><value><struct><member><name>faultCode</name><value><int>3</int></value></member></struct></value><y/></fault>"), nil},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Codec{}.DecodeReply([]byte(tt.body))
			if tt.name == "in fault" {
				var re *transport.RemoteError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, 3, re.Code)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, v)
		})
	}
	method, args, err := Codec{}.DecodeCall([]byte("<methodCall><x/><methodName>m</methodName><y/><params><z/></params><w/></methodCall>"))
	require.NoError(t, err)
	assert.Equal(t, "m", method)
	assert.Empty(t, args)

	refused := []struct{ name, body, msg string }{
		{"unknown type in value (Python too)", one("<params><param><value><foo>1</foo></value></param></params>"), "unknown value type <foo>"},
		{"unknown root (Python accepts it)", "<foo><params/></foo>", "want <methodResponse>"},
		{"misplaced XML-RPC element", one("<params><value>1</value></params>"), "want <param> or </params>"},
		{"text in params (Python ignores it)", one("<params>junk<param><value>1</value></param></params>"), "unexpected text"},
		{"a second type in value (Python takes both)", one("<params><param><value><int>1</int><int>2</int></value></param></params>"), "want </value>"},
		{"unknown element inside a scalar", one("<params><param><value><int>1<x/></int></value></param></params>"), "want </int>"},
		{"unknown element after the type", one("<params><param><value><int>1</int><x/></value></param></params>"), "want </value>"},
		{"skipped element not well-formed", one("<params><x><y></x></params>"), "want </y>, found </x>"},
		{"skipped element nested too deep", one("<params>" + strings.Repeat("<x>", 200) + "</params>"), "nested deeper than 100"},
		{"skipped element cut short", "<methodResponse><params><x>", "end of input"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Codec{}.DecodeReply([]byte(tt.body))
			require.ErrorIs(t, err, transport.ErrParse)
			assert.ErrorContains(t, err, tt.msg)
		})
	}
	_, err = Codec{MaxElements: 10}.DecodeReply([]byte(one("<params>" + strings.Repeat("<x/>", 20) + "</params>")))
	assert.ErrorContains(t, err, "too many elements", "skipped elements count")
}

// TestAppendReplyWithin: encoding stops soon after the limit is passed,
// with an error wrapping transport.ErrTooLarge, and leaves dst as it was.
func TestAppendReplyWithin(t *testing.T) {
	c := Codec{}
	for name, result := range map[string]any{
		"[]int":           make([]int, 10_000),
		"[]any":           make([]any, 10_000),
		"map[string]any":  map[string]any{"a": strings.Repeat("x", 600), "b": 1, "c": []any{1, 2}},
		"nested":          []any{[]any{make([]string, 5000)}},
		"one long string": strings.Repeat("x", 5000),
	} {
		dst := []byte("prefix")
		out, err := c.AppendReplyWithin(dst, result, 512)
		require.ErrorIs(t, err, transport.ErrTooLarge, name)
		assert.Equal(t, "prefix", string(out), name)
		assert.ErrorContains(t, err, "the encoding passed 512 bytes", name)
	}
	body, err := c.AppendReplyWithin([]byte("prefix"), []int{1, 2, 3}, 512)
	require.NoError(t, err)
	want, err := c.AppendReply([]byte("prefix"), []int{1, 2, 3})
	require.NoError(t, err)
	assert.Equal(t, want, body, "within the limit it is AppendReply")
	_, err = c.AppendReplyWithin(nil, make([]int, 10_000), 0)
	assert.NoError(t, err, "no limit")
}

// TestEncodeErrorPath: a Go value that cannot travel, deep in an argument,
// is a *wire.ConversionError whose Path leads to it.
func TestEncodeErrorPath(t *testing.T) {
	type T struct{ C chan int }
	_, err := Codec{}.AppendCall(nil, "f", []any{map[string]any{"k": []any{T{C: make(chan int)}}}})
	var ce *wire.ConversionError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "args[0].k[0].C", ce.Path)
	assert.Equal(t, "cannot encode a value of type chan int", ce.Reason)
}
