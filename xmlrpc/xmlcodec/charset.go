package xmlcodec

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// The decoder reads the encodings XML-RPC peers declare: UTF-8 (XML's
// default), UTF-16 (which XML requires every reader to accept), US-ASCII,
// ISO-8859-1 (PHP's xmlrpc extension declares it on every body) and
// Windows-1252. A body in any other encoding is refused with a parse error
// that names the encoding. Single-byte encodings are transcoded to UTF-8
// before scanning, so the scanner only ever sees UTF-8; a UTF-8 body is
// scanned where it lies, with no copy.
//
// Only the body says what its encoding is: a byte order mark, else the
// encoding of its XML declaration, else UTF-8. A charset parameter on the
// carrier's content type (HTTP's Content-Type) is not consulted: peers
// get it wrong (PHP labels its ISO-8859-1 bodies charset=UTF-8), and
// neither Python's, Ruby's nor Node's XML-RPC reads it either.

// charset is an encoding the decoder reads.
type charset uint8

const (
	charsetUTF8    charset = iota // also US-ASCII, a subset
	charsetLatin1                 // ISO-8859-1: byte b is U+00bb
	charsetWin1252                // Windows-1252: ISO-8859-1 but for 0x80-0x9F
	charsetUTF16                  // needs a byte order mark or a leading "<?" to be seen
)

// charsetNames are the encoding names (IANA names and the aliases peers
// write), compared without regard to case.
var charsetNames = []struct {
	name string
	cs   charset
}{
	{"utf-8", charsetUTF8}, {"utf8", charsetUTF8},
	{"us-ascii", charsetUTF8}, {"ascii", charsetUTF8}, {"ansi_x3.4-1968", charsetUTF8}, {"iso646-us", charsetUTF8},
	{"iso-8859-1", charsetLatin1}, {"iso_8859-1", charsetLatin1}, {"iso8859-1", charsetLatin1},
	{"iso_8859_1", charsetLatin1}, {"iso_8859-1:1987", charsetLatin1}, {"latin-1", charsetLatin1},
	{"latin1", charsetLatin1}, {"latin_1", charsetLatin1}, {"l1", charsetLatin1}, {"iso-ir-100", charsetLatin1},
	{"cp819", charsetLatin1}, {"ibm819", charsetLatin1}, {"csisolatin1", charsetLatin1},
	{"windows-1252", charsetWin1252}, {"cp1252", charsetWin1252}, {"x-cp1252", charsetWin1252},
	{"cswindows1252", charsetWin1252},
	{"utf-16", charsetUTF16}, {"utf16", charsetUTF16}, {"utf-16le", charsetUTF16}, {"utf-16be", charsetUTF16},
}

// charsetNamed returns the charset of an encoding name.
func charsetNamed(name []byte) (charset, bool) {
	for _, n := range charsetNames {
		if bytes.EqualFold(name, []byte(n.name)) {
			return n.cs, true
		}
	}
	return 0, false
}

// supportedEncodings lists what the decoder reads, for error messages.
const supportedEncodings = "UTF-8, UTF-16, US-ASCII, ISO-8859-1 (latin-1) and Windows-1252"

// win1252 maps the bytes 0x80-0x9F of Windows-1252, where it differs from
// ISO-8859-1. The five bytes Windows-1252 leaves undefined map to the C1
// control of the same number, as the WHATWG Encoding Standard decodes them.
var win1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8d, 'Ž', 0x8f,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9d, 'ž', 'Ÿ',
}

// singleByteToUTF8 transcodes a body in ISO-8859-1 or Windows-1252 to
// UTF-8. A body of ASCII alone (PHP escapes every other byte as a
// character reference) is returned as it is.
func singleByteToUTF8(b []byte, cs charset) []byte {
	high := 0
	for _, c := range b {
		if c >= utf8.RuneSelf {
			high++
		}
	}
	if high == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+2*high) // at most 3 bytes a character ('€')
	for _, c := range b {
		switch {
		case c < utf8.RuneSelf:
			out = append(out, c)
		case cs == charsetWin1252 && c < 0xa0:
			out = utf8.AppendRune(out, win1252[c-0x80])
		default:
			out = append(out, 0xc0|c>>6, 0x80|c&0x3f)
		}
	}
	return out
}

// utf16Order detects a UTF-16 body: by its byte order mark (skipped), or
// by a "<" as its first character, which every XML-RPC body has (XML
// appendix F). It reports the byte order and where the text begins.
func utf16Order(b []byte) (bigEndian bool, start int, ok bool) {
	switch {
	case len(b) >= 2 && b[0] == 0xfe && b[1] == 0xff:
		return true, 2, true
	case len(b) >= 2 && b[0] == 0xff && b[1] == 0xfe:
		return false, 2, true
	case len(b) >= 4 && b[0] == 0 && b[1] == '<' && b[2] == 0 && b[3] != 0:
		return true, 0, true
	case len(b) >= 4 && b[0] == '<' && b[1] == 0 && b[2] != 0 && b[3] == 0:
		return false, 0, true
	}
	return false, 0, false
}

// utf16ToUTF8 transcodes UTF-16 text to UTF-8. It returns the offset of
// the first code unit that is not well-formed UTF-16 (an unpaired
// surrogate, or an odd byte at the end), or -1.
func utf16ToUTF8(b []byte, bigEndian bool) ([]byte, int) {
	unit := func(i int) rune {
		if bigEndian {
			return rune(b[i])<<8 | rune(b[i+1])
		}
		return rune(b[i+1])<<8 | rune(b[i])
	}
	out := make([]byte, 0, len(b)/2*3/2)
	i := 0
	for ; i+1 < len(b); i += 2 {
		r := unit(i)
		if utf16.IsSurrogate(r) {
			if r >= 0xdc00 || i+3 >= len(b) {
				return nil, i
			}
			r = utf16.DecodeRune(r, unit(i+2))
			if r == utf8.RuneError {
				return nil, i
			}
			i += 2
		}
		out = utf8.AppendRune(out, r)
	}
	if i < len(b) {
		return nil, i
	}
	return out, -1
}
