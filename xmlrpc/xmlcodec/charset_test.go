package xmlcodec

import (
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// utf16Body encodes s as UTF-16 in the given byte order, with or without
// a byte order mark.
func utf16Body(s string, bigEndian, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xfeff}, units...)
	}
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		if bigEndian {
			out = binary.BigEndian.AppendUint16(out, u)
		} else {
			out = binary.LittleEndian.AppendUint16(out, u)
		}
	}
	return out
}

func decl(enc string) string { return `<?xml version="1.0" encoding="` + enc + `"?>` + "\n" }

func TestDecodeEncodings(t *testing.T) {
	str := func(s string) string { return value("<value><string>" + s + "</string></value>") }
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"no declaration: UTF-8", []byte(str("héllo 世界")), "héllo 世界"},
		{"utf-8", []byte(decl("utf-8") + str("héllo 世界")), "héllo 世界"},
		{"UTF8", []byte(decl("UTF8") + str("héllo")), "héllo"},
		{"utf-8 with a byte order mark", []byte("\xef\xbb\xbf" + decl("UTF-8") + str("é")), "é"},
		{"us-ascii", []byte(decl("us-ascii") + str("plain")), "plain"},
		{"ascii, read as UTF-8", []byte(decl("ASCII") + str("é")), "é"},
		{"iso-8859-1", []byte(decl("iso-8859-1") + str("h\xe9llo \xff\xa0")), "héllo ÿ\u00a0"},
		{"ISO-8859-1 C1 controls", []byte(decl("ISO-8859-1") + str("\x80\x9f")), "\u0080\u009f"},
		{"latin-1", []byte(decl("latin-1") + str("\xe9")), "é"},
		{"latin1", []byte(decl("latin1") + str("\xe9")), "é"},
		{"iso_8859-1", []byte(decl("iso_8859-1") + str("\xe9")), "é"},
		{"l1", []byte(decl("L1") + str("\xe9")), "é"},
		{"PHP's default: ASCII with references", []byte(decl("iso-8859-1") + str("h&#233;llo &#60;&#38;&#62;")), "héllo <&>"},
		{"windows-1252", []byte(decl("windows-1252") + str("\x80 \x93q\x94 \x81 \xe9")), "€ “q” \u0081 é"},
		{"cp1252", []byte(decl("cp1252") + str("\x9f")), "Ÿ"},
		{"utf-16le with bom", utf16Body(decl("UTF-16")+str("héllo 世界 𝄞"), false, true), "héllo 世界 𝄞"},
		{"utf-16be with bom", utf16Body(decl("utf-16")+str("héllo 𝄞"), true, true), "héllo 𝄞"},
		{"utf-16be without bom", utf16Body(decl("utf-16be")+str("é"), true, false), "é"},
		{"utf-16le without bom or declaration", utf16Body(str("é"), false, false), "é"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, args, err := Codec{}.DecodeCall(tt.body)
			require.NoError(t, err)
			assert.Equal(t, "m", method)
			assert.Equal(t, []any{tt.want}, args)
		})
	}
}

// TestDecodeReplyEncodings: replies read the same encodings as calls (the
// client side of a PHP server with default options).
func TestDecodeReplyEncodings(t *testing.T) {
	reply := func(s string) string {
		return "<methodResponse><params><param><value><string>" + s + "</string></value></param></params></methodResponse>"
	}
	for body, want := range map[string]string{
		decl("iso-8859-1") + reply("h\xe9llo"):     "héllo",
		decl("windows-1252") + reply("\x80"):       "€",
		string(utf16Body(reply("é"), false, true)): "é",
	} {
		v, err := Codec{}.DecodeReply([]byte(body))
		require.NoError(t, err, "%q", body)
		assert.Equal(t, want, v)
	}
	_, err := Codec{}.DecodeReply([]byte(decl("iso-8859-1") + "<methodResponse><fault><value><struct>" +
		"<member><name>faultCode</name><value><int>4</int></value></member>" +
		"<member><name>faultString</name><value><string>\xe9chec</string></value></member></struct></value></fault></methodResponse>"))
	assert.EqualError(t, err, "remote fault 4: échec")
}

func TestCharsetNames(t *testing.T) {
	for _, n := range charsetNames {
		cs, ok := charsetNamed([]byte(n.name))
		assert.True(t, ok, n.name)
		assert.Equal(t, n.cs, cs, n.name)
	}
	_, ok := charsetNamed([]byte("shift_jis"))
	assert.False(t, ok)
}

// TestWin1252Table checks the table against Python's cp1252 codec
// (bytes.decode("cp1252") for 0x80-0x9F), whose five undefined bytes are
// the C1 controls of the same number, as the WHATWG Encoding Standard has
// them.
func TestWin1252Table(t *testing.T) {
	const python = "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
		"\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178"
	assert.Equal(t, []rune(python), win1252[:])
}

// TestTranscodedErrorOffsets: an error in a transcoded body gives its
// offset in the body as received, not in its UTF-8 form.
func TestTranscodedErrorOffsets(t *testing.T) {
	latin1 := decl("iso-8859-1") + value("<value><string>\xe9\xe9\xe9</strin></value>")
	latin1Attr := decl("iso-8859-1") + "<methodCall><methodName>f\xe9\xe9\xe9</methodName><params a=\"&bogus;\"/></methodCall>"
	utf16le := utf16Body(value("<value><string>é𝄞</strin></value>"), false, true)
	for body, want := range map[string]int{
		latin1:          strings.Index(latin1, "</strin>"),
		latin1Attr:      strings.Index(latin1Attr, "&bogus;"), // a reference inside an attribute value
		string(utf16le): 2 + 2*len(utf16.Encode([]rune(strings.Split(value("<value><string>é𝄞"), "</param>")[0]))),
	} {
		_, _, err := Codec{}.DecodeCall([]byte(body))
		var se *SyntaxError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, want, se.Offset, "%v", err)
	}
}
