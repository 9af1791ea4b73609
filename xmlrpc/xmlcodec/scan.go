package xmlcodec

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The scanner reads the subset of XML that XML-RPC uses: an optional XML
// declaration, elements (attributes are read and ignored, so namespace
// declarations pass), character data with the five predefined entities,
// character references and CDATA sections, comments and processing
// instructions. Document type declarations, and so entity declarations,
// are refused: they are how "billion laughs" and external-entity attacks
// get in, and XML-RPC never needs them.
//
// It works on the whole body in memory, returns slices of it where it can
// and never recurses, so hostile input costs time and memory linear in its
// size.

// decoder holds the scanner's state for one body.
type decoder struct {
	buf       []byte
	pos       int
	maxDepth  int
	elemsLeft int
	scratch   []byte // decoded text when it differs from the input
	// from is the encoding buf was transcoded from (charsetUTF8: it
	// was not) and fromStart the length of the byte order mark it
	// had, so that errors give offsets in the body as received.
	from      charset
	fromStart int
}

// tagKind says which sort of tag tag() read.
type tagKind uint8

const (
	tagStart tagKind = iota // <name>
	tagEmpty                // <name/>
	tagEnd                  // </name>
)

// excerptLen bounds how much of the input an error message quotes.
const excerptLen = 24

func (d *decoder) errorf(off int, format string, args ...any) error {
	return &SyntaxError{Offset: d.inputOffset(off), Msg: fmt.Sprintf(format, args...)}
}

// inputOffset turns an offset in buf into one in the body as received,
// when buf was transcoded: every character came from one byte of
// ISO-8859-1 or Windows-1252, or from one or two UTF-16 code units.
func (d *decoder) inputOffset(off int) int {
	off = min(off, len(d.buf))
	switch d.from {
	case charsetLatin1, charsetWin1252:
		return utf8.RuneCount(d.buf[:off])
	case charsetUTF16:
		n := d.fromStart
		for _, r := range string(d.buf[:off]) {
			n += 2 * utf16.RuneLen(r)
		}
		return n
	}
	return off
}

// excerpt quotes the input from off, shortened.
func (d *decoder) excerpt(off int) string {
	if off >= len(d.buf) {
		return "end of input"
	}
	end := min(off+excerptLen, len(d.buf))
	s := strconv.Quote(string(d.buf[off:end]))
	if end < len(d.buf) {
		s += "..."
	}
	return s
}

func (d *decoder) truncated() error {
	return d.errorf(len(d.buf), "unexpected end of input (truncated body?)")
}

func (d *decoder) hasPrefix(s string) bool {
	return len(d.buf)-d.pos >= len(s) && string(d.buf[d.pos:d.pos+len(s)]) == s
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// prolog reads the body's encoding (see charset.go), transcoding it to
// UTF-8 when it is another one, and skips a byte order mark, the XML
// declaration and what may come before the root element.
func (d *decoder) prolog() error {
	bigEndian, start, isUTF16 := utf16Order(d.buf)
	if isUTF16 {
		text, bad := utf16ToUTF8(d.buf[start:], bigEndian)
		if bad >= 0 {
			return d.errorf(start+bad, "invalid UTF-16")
		}
		d.buf, d.from, d.fromStart = text, charsetUTF16, start
	} else if bytes.HasPrefix(d.buf, []byte("\xef\xbb\xbf")) {
		d.pos = 3
	}
	for d.pos < len(d.buf) && isSpace(d.buf[d.pos]) {
		d.pos++
	}
	cs := charsetUTF8
	if d.hasPrefix("<?xml") && d.pos+5 < len(d.buf) && (isSpace(d.buf[d.pos+5]) || d.buf[d.pos+5] == '?') {
		start := d.pos
		end := bytes.Index(d.buf[d.pos:], []byte("?>"))
		if end < 0 {
			return d.truncated()
		}
		decl := d.buf[start : start+end+2]
		if v, i := declAttr(decl, "version"); i < 0 || string(v) != "1.0" {
			return d.errorf(start, "XML declaration without version 1.0")
		}
		if enc, i := declAttr(decl, "encoding"); i >= 0 {
			var ok bool
			if cs, ok = charsetNamed(enc); !ok {
				return d.errorf(start+i, "unsupported encoding %q (the decoder reads %s)", enc, supportedEncodings)
			}
			switch {
			case cs == charsetUTF16 && !isUTF16:
				return d.errorf(start+i, "encoding %q declared, but the body is not UTF-16 (no byte order mark)", enc)
			case cs != charsetUTF16 && isUTF16:
				return d.errorf(start+i, "encoding %q declared, but the body is UTF-16", enc)
			case cs != charsetUTF8 && d.buf[0] == 0xef:
				return d.errorf(start+i, "encoding %q declared, but the body starts with a UTF-8 byte order mark", enc)
			}
		}
		if cs == charsetLatin1 || cs == charsetWin1252 {
			// ASCII up to here, so offsets and the position stay.
			if text := singleByteToUTF8(d.buf, cs); len(text) != len(d.buf) {
				d.buf, d.from = text, cs
			}
		}
		d.pos = start + end + 2
	}
	if cs == charsetUTF8 && !isUTF16 && !utf8.Valid(d.buf) {
		off := 0
		for off < len(d.buf) {
			r, size := utf8.DecodeRune(d.buf[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		return d.errorf(off, "invalid UTF-8 (a body in another encoding must declare it: <?xml version=\"1.0\" encoding=\"...\"?>)")
	}
	return d.skipMisc()
}

// declAttr returns the value of the pseudo-attribute name in an XML
// declaration and its offset in decl, or -1 when it is absent.
func declAttr(decl []byte, name string) ([]byte, int) {
	i := bytes.Index(decl, []byte(name))
	if i < 0 {
		return nil, -1
	}
	v := trimLeftSpace(decl[i+len(name):])
	if len(v) == 0 || v[0] != '=' {
		return nil, i
	}
	v = trimLeftSpace(v[1:])
	if len(v) == 0 || (v[0] != '"' && v[0] != '\'') {
		return nil, i
	}
	q := v[0]
	v = v[1:]
	j := bytes.IndexByte(v, q)
	if j < 0 {
		return nil, i
	}
	return v[:j], i
}

// trimLeftSpace drops XML white space from the start of b (bytes.TrimLeft
// builds its set of bytes on every call).
func trimLeftSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

// epilog checks that nothing but comments and white space follow the root
// element.
func (d *decoder) epilog() error {
	if err := d.skipMisc(); err != nil {
		return err
	}
	if d.pos < len(d.buf) {
		return d.errorf(d.pos, "unexpected %s after the root element", d.excerpt(d.pos))
	}
	return nil
}

// skipMisc skips white space, comments and processing instructions, and
// refuses document type declarations.
func (d *decoder) skipMisc() error {
	for d.pos < len(d.buf) {
		c := d.buf[d.pos]
		switch {
		case isSpace(c):
			d.pos++
		case c != '<' || d.pos+1 >= len(d.buf):
			return nil
		case d.buf[d.pos+1] == '?':
			if err := d.skipPI(); err != nil {
				return err
			}
		case d.buf[d.pos+1] != '!':
			return nil
		case d.hasPrefix("<!--"):
			if err := d.skipComment(); err != nil {
				return err
			}
		case d.hasPrefix("<!DOCTYPE"):
			return d.errorf(d.pos, "<!DOCTYPE is not allowed in XML-RPC")
		case d.hasPrefix("<!ENTITY"):
			return d.errorf(d.pos, "<!ENTITY is not allowed in XML-RPC")
		default:
			return nil
		}
	}
	return nil
}

func (d *decoder) skipComment() error {
	body := d.buf[d.pos+4:]
	end := bytes.Index(body, []byte("--"))
	if end < 0 {
		return d.truncated()
	}
	if end+2 >= len(body) {
		return d.truncated()
	}
	if body[end+2] != '>' {
		return d.errorf(d.pos+4+end, `"--" is not allowed in comments`)
	}
	if err := d.checkChars(d.pos+4, d.pos+4+end); err != nil {
		return err
	}
	d.pos += 4 + end + 3
	return nil
}

// checkChars refuses characters XML does not allow (control characters
// other than tab, CR and LF, U+FFFE, U+FFFF) in d.buf[from:to], which
// is valid UTF-8.
func (d *decoder) checkChars(from, to int) error {
	for i := from; i < to; i++ {
		c := d.buf[i]
		switch {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			return d.errorf(i, "control character %#02x is not allowed in XML", c)
		case c == 0xef && i+2 < to && d.buf[i+1] == 0xbf && (d.buf[i+2] == 0xbe || d.buf[i+2] == 0xbf):
			return d.errorf(i, "character U+FFF%X is not allowed in XML", d.buf[i+2]&0xf)
		}
	}
	return nil
}

func (d *decoder) skipPI() error {
	start := d.pos
	end := bytes.Index(d.buf[d.pos+2:], []byte("?>"))
	if end < 0 {
		return d.truncated()
	}
	target := d.buf[start+2 : start+2+end]
	if i := bytes.IndexAny(target, " \t\r\n"); i >= 0 {
		target = target[:i]
	}
	if len(target) == 0 || !validName(target) {
		return d.errorf(start, "processing instruction without a valid target")
	}
	if bytes.EqualFold(target, []byte("xml")) {
		return d.errorf(start, "XML declaration not at the start of the body")
	}
	if err := d.checkChars(start+2, start+2+end); err != nil {
		return err
	}
	d.pos += 2 + end + 2
	return nil
}

// tag reads the next tag, skipping white space, comments and processing
// instructions before it. Attributes are checked for form and ignored.
// Text other than white space before the tag is an error. It returns the
// tag's name (a slice of the input), its kind and its offset.
func (d *decoder) tag() (name []byte, kind tagKind, off int, err error) {
	if err = d.skipMisc(); err != nil {
		return nil, 0, d.pos, err
	}
	off = d.pos
	if d.pos >= len(d.buf) {
		return nil, 0, off, d.truncated()
	}
	if d.buf[d.pos] != '<' {
		return nil, 0, off, d.errorf(off, "unexpected text %s where a tag belongs", d.excerpt(off))
	}
	d.pos++
	kind = tagStart
	if d.pos < len(d.buf) && d.buf[d.pos] == '/' {
		kind = tagEnd
		d.pos++
	}
	start := d.pos
	if err := d.name(); err != nil {
		return nil, 0, off, err
	}
	name = d.buf[start:d.pos]
	if len(name) == 0 {
		if d.pos >= len(d.buf) {
			return nil, 0, off, d.truncated()
		}
		return nil, 0, off, d.errorf(off, "malformed tag %s", d.excerpt(off))
	}
	if kind == tagEnd {
		for d.pos < len(d.buf) && isSpace(d.buf[d.pos]) {
			d.pos++
		}
		if d.pos >= len(d.buf) {
			return nil, 0, off, d.truncated()
		}
		if d.buf[d.pos] != '>' {
			return nil, 0, off, d.errorf(d.pos, "malformed end tag %s", d.excerpt(off))
		}
		d.pos++
		return name, kind, off, nil
	}
	d.elemsLeft--
	if d.elemsLeft < 0 {
		return nil, 0, off, d.errorf(off, "too many elements")
	}
	for {
		hadSpace := false
		for d.pos < len(d.buf) && isSpace(d.buf[d.pos]) {
			d.pos++
			hadSpace = true
		}
		if d.pos >= len(d.buf) {
			return nil, 0, off, d.truncated()
		}
		switch d.buf[d.pos] {
		case '>':
			d.pos++
			return name, kind, off, nil
		case '/':
			if d.pos+1 >= len(d.buf) {
				return nil, 0, off, d.truncated()
			}
			if d.buf[d.pos+1] != '>' {
				return nil, 0, off, d.errorf(d.pos, "malformed tag %s", d.excerpt(off))
			}
			d.pos += 2
			return name, tagEmpty, off, nil
		}
		if !hadSpace {
			return nil, 0, off, d.errorf(d.pos, "malformed tag %s", d.excerpt(off))
		}
		if err := d.skipAttr(); err != nil {
			return nil, 0, off, err
		}
	}
}

// nameBytes classifies bytes for names: nameChar may appear in a name,
// nameStart may also begin one (or follow its prefix's colon).
var nameBytes = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_', c >= utf8.RuneSelf:
			t[c] = nameChar | nameStart
		case '0' <= c && c <= '9', c == '.', c == '-', c == ':':
			t[c] = nameChar
		}
	}
	return t
}()

const (
	nameChar = 1 << iota
	nameStart
)

// name reads an XML name: ASCII letters, digits and "_.-" (not first for
// digits, "." and "-"), and any non-ASCII character, which is a little
// more than XML allows but enough to refuse punctuation; at most one ":"
// separates a namespace prefix, as XML namespaces require.
func (d *decoder) name() error {
	start := d.pos
	for d.pos < len(d.buf) && nameBytes[d.buf[d.pos]]&nameChar != 0 {
		d.pos++
	}
	if d.pos < len(d.buf) {
		if c := d.buf[d.pos]; !isSpace(c) && c != '/' && c != '>' && c != '=' {
			return d.errorf(d.pos, "invalid character %q in a name", c)
		}
	}
	name := d.buf[start:d.pos]
	if len(name) == 0 {
		return nil
	}
	if nameBytes[name[0]]&nameStart == 0 {
		return d.errorf(start, "invalid character %q at the start of a name", name[0])
	}
	if i := bytes.IndexByte(name, ':'); i >= 0 {
		if i == len(name)-1 || nameBytes[name[i+1]]&nameStart == 0 || bytes.IndexByte(name[i+1:], ':') >= 0 {
			return d.errorf(start+i, "malformed qualified name %q", name)
		}
	}
	return nil
}

// validName reports whether b is a name as decoder.name reads them.
func validName(b []byte) bool {
	d := decoder{buf: b}
	return d.name() == nil && d.pos == len(b)
}

// skipAttr skips one name="value" attribute.
func (d *decoder) skipAttr() error {
	start := d.pos
	if err := d.name(); err != nil {
		return err
	}
	if d.pos == start {
		return d.errorf(d.pos, "malformed attribute %s", d.excerpt(start))
	}
	for d.pos < len(d.buf) && isSpace(d.buf[d.pos]) {
		d.pos++
	}
	if d.pos >= len(d.buf) {
		return d.truncated()
	}
	if d.buf[d.pos] != '=' {
		return d.errorf(d.pos, "attribute without value %s", d.excerpt(start))
	}
	d.pos++
	for d.pos < len(d.buf) && isSpace(d.buf[d.pos]) {
		d.pos++
	}
	if d.pos >= len(d.buf) {
		return d.truncated()
	}
	q := d.buf[d.pos]
	if q != '"' && q != '\'' {
		return d.errorf(d.pos, "attribute value not quoted %s", d.excerpt(start))
	}
	end := bytes.IndexByte(d.buf[d.pos+1:], q)
	if end < 0 {
		return d.truncated()
	}
	valStart, valEnd := d.pos+1, d.pos+1+end
	for i := valStart; i < valEnd; i++ {
		switch d.buf[i] {
		case '<':
			return d.errorf(i, "'<' in attribute value")
		case '&':
			// Check the reference within the value's bounds.
			sub := decoder{buf: d.buf[:valEnd], pos: i, from: d.from, fromStart: d.fromStart}
			if _, err := sub.reference(d.scratch[:0]); err != nil {
				var se *SyntaxError
				if errors.As(err, &se) && se.Offset == d.inputOffset(valEnd) {
					// Not a truncated body: the reference ends with the value.
					return d.errorf(i, "unterminated reference in attribute value")
				}
				return err
			}
		}
	}
	if err := d.checkChars(valStart, valEnd); err != nil {
		return err
	}
	d.pos = valEnd + 1
	return nil
}

// expect reads the next tag and checks its name and kind. A start tag
// matches tagEmpty too; the kind read is returned.
func (d *decoder) expect(name string, kind tagKind) (tagKind, error) {
	got, k, off, err := d.tag()
	if err != nil {
		return 0, err
	}
	if string(got) != name || (k == tagEnd) != (kind == tagEnd) {
		return 0, d.unexpected(off, name, kind, got, k)
	}
	return k, nil
}

// expectSkipping is expect where tagSkipping belongs.
func (d *decoder) expectSkipping(name string, kind tagKind) (tagKind, error) {
	got, k, off, err := d.tagSkipping()
	if err != nil {
		return 0, err
	}
	if string(got) != name || (k == tagEnd) != (kind == tagEnd) {
		return 0, d.unexpected(off, name, kind, got, k)
	}
	return k, nil
}

// unexpected is the error of a tag got where another was wanted.
func (d *decoder) unexpected(off int, name string, kind tagKind, got []byte, k tagKind) error {
	return d.errorf(off, "want %s, found %s", tagString(name, kind), tagString(string(got), k))
}

// tagSkipping is tag for the places where XML-RPC has markup only (in
// methodCall, methodResponse, params, param, fault, struct, member, array
// and data, around the elements XML-RPC puts there): an element XML-RPC
// does not have is skipped with everything in it, as Python's
// xmlrpc.client skips it, so that other implementations' extensions pass.
// An XML-RPC element out of place is still an error, and so is text;
// inside <value> nothing is skipped (an unknown type is an error there,
// in Python too).
func (d *decoder) tagSkipping() (name []byte, kind tagKind, off int, err error) {
	for { // each turn consumes an element: bounded by the element limit
		name, kind, off, err = d.tag()
		if err != nil || kind == tagEnd || xmlrpcElement(name) {
			return name, kind, off, err
		}
		if kind == tagStart {
			if err := d.skipElement(name); err != nil {
				return nil, 0, off, err
			}
		}
	}
}

// xmlrpcElement reports whether name is an element of XML-RPC.
func xmlrpcElement(name []byte) bool {
	switch string(name) {
	case "methodCall", "methodResponse", "methodName", "params", "param", "value", "fault",
		"struct", "member", "name", "array", "data", "nil", "string", "int", "i4", "i8", "boolean",
		"double", "dateTime.iso8601", "base64":
		return true
	}
	return false
}

// skipElement skips the content and end tag of an element whose start
// tag was just read, checking that it is well-formed.
func (d *decoder) skipElement(name []byte) error {
	var buf [8][]byte
	open := append(buf[:0], name)
	for len(open) > 0 { // each turn consumes a tag
		if _, err := d.text(); err != nil {
			return err
		}
		n, k, off, err := d.tag()
		if err != nil {
			return err
		}
		switch k {
		case tagStart:
			if len(open) >= d.maxDepth {
				return d.errorf(off, "elements nested deeper than %d levels", d.maxDepth)
			}
			open = append(open, n)
		case tagEnd:
			if top := open[len(open)-1]; !bytes.Equal(n, top) {
				return d.errorf(off, "want </%s>, found </%s>", top, n)
			}
			open = open[:len(open)-1]
		}
	}
	return nil
}

func tagString(name string, kind tagKind) string {
	switch kind {
	case tagEnd:
		return "</" + name + ">"
	case tagEmpty:
		return "<" + name + "/>"
	}
	return "<" + name + ">"
}

// text reads character data up to the next tag, resolving references,
// CDATA sections and line ends as XML does, and skipping comments. The
// result aliases the input when nothing needed rewriting, else d.scratch:
// it is valid until the next call.
func (d *decoder) text() ([]byte, error) {
	start := d.pos
	for d.pos < len(d.buf) {
		c := d.buf[d.pos]
		if c >= 0x20 && c != '<' && c != '&' && c != 0xef && c != ']' {
			d.pos++
			continue
		}
		if c == ']' {
			if d.hasPrefix("]]>") {
				return nil, d.errorf(d.pos, "\"]]>\" is not allowed in text")
			}
			d.pos++
			continue
		}
		if c == '\t' || c == '\n' {
			d.pos++
			continue
		}
		if c == '<' && !d.hasPrefix("<!") {
			return d.buf[start:d.pos], nil
		}
		if c == 0xef {
			if err := d.checkNonChar(); err != nil {
				return nil, err
			}
			d.pos++
			continue
		}
		break
	}
	if d.pos >= len(d.buf) {
		return d.buf[start:d.pos], nil
	}
	// Slow path: something to rewrite.
	out := append(d.scratch[:0], d.buf[start:d.pos]...)
	for d.pos < len(d.buf) {
		c := d.buf[d.pos]
		switch {
		case c == '<':
			switch {
			case d.hasPrefix("<![CDATA["):
				end := bytes.Index(d.buf[d.pos+9:], []byte("]]>"))
				if end < 0 {
					return nil, d.truncated()
				}
				data := d.buf[d.pos+9 : d.pos+9+end]
				if err := d.checkChars(d.pos+9, d.pos+9+end); err != nil {
					return nil, err
				}
				out = appendNormalizedNewlines(out, data)
				d.pos += 9 + end + 3
			case d.hasPrefix("<!--"):
				if err := d.skipComment(); err != nil {
					return nil, err
				}
			case d.hasPrefix("<!"):
				return nil, d.errorf(d.pos, "unexpected %s in text", d.excerpt(d.pos))
			default:
				d.scratch = out
				return out, nil
			}
		case c == '&':
			var err error
			if out, err = d.reference(out); err != nil {
				return nil, err
			}
		case c == '\r':
			out = append(out, '\n')
			d.pos++
			if d.pos < len(d.buf) && d.buf[d.pos] == '\n' {
				d.pos++
			}
		case c < 0x20 && c != '\t' && c != '\n':
			return nil, d.errorf(d.pos, "control character %#02x is not allowed in XML", c)
		case c == 0xef:
			if err := d.checkNonChar(); err != nil {
				return nil, err
			}
			out = append(out, c)
			d.pos++
		case c == ']' && d.hasPrefix("]]>"):
			return nil, d.errorf(d.pos, "\"]]>\" is not allowed in text")
		default:
			out = append(out, c)
			d.pos++
		}
	}
	d.scratch = out
	return out, nil
}

// checkNonChar refuses U+FFFE and U+FFFF, which are valid UTF-8 but not
// XML characters. d.buf[d.pos] is 0xef.
func (d *decoder) checkNonChar() error {
	if d.pos+2 < len(d.buf) && d.buf[d.pos+1] == 0xbf && (d.buf[d.pos+2] == 0xbe || d.buf[d.pos+2] == 0xbf) {
		return d.errorf(d.pos, "character U+FFF%X is not allowed in XML", d.buf[d.pos+2]&0xf)
	}
	return nil
}

func appendNormalizedNewlines(out, data []byte) []byte {
	for {
		i := bytes.IndexByte(data, '\r')
		if i < 0 {
			return append(out, data...)
		}
		out = append(out, data[:i]...)
		out = append(out, '\n')
		data = data[i+1:]
		if len(data) > 0 && data[0] == '\n' {
			data = data[1:]
		}
	}
}

// reference resolves the entity or character reference at d.pos and
// appends its character to out.
func (d *decoder) reference(out []byte) ([]byte, error) {
	start := d.pos
	end := bytes.IndexByte(d.buf[d.pos:min(d.pos+12, len(d.buf))], ';')
	if end < 0 {
		if len(d.buf)-d.pos < 12 {
			return nil, d.truncated()
		}
		return nil, d.errorf(start, "malformed reference %s", d.excerpt(start))
	}
	ref := d.buf[d.pos+1 : d.pos+end]
	d.pos += end + 1
	switch string(ref) {
	case "lt":
		return append(out, '<'), nil
	case "gt":
		return append(out, '>'), nil
	case "amp":
		return append(out, '&'), nil
	case "apos":
		return append(out, '\''), nil
	case "quot":
		return append(out, '"'), nil
	}
	if len(ref) < 2 || ref[0] != '#' {
		return nil, d.errorf(start, "unknown entity %s (only the five predefined entities are allowed)", strconv.Quote(string(ref)))
	}
	digits, base := ref[1:], 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	var r rune
	if len(digits) == 0 {
		return nil, d.errorf(start, "malformed character reference %s", strconv.Quote(string(ref)))
	}
	for _, c := range digits {
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case base == 16 && 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case base == 16 && 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return nil, d.errorf(start, "malformed character reference %s", strconv.Quote(string(ref)))
		}
		r = r*rune(base) + rune(v)
		if r > utf8.MaxRune {
			break
		}
	}
	if !isXMLChar(r) {
		return nil, d.errorf(start, "character reference %s names a character XML does not allow", strconv.Quote(string(ref)))
	}
	return utf8.AppendRune(out, r), nil
}

// isXMLChar reports whether r is allowed in an XML 1.0 document.
func isXMLChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r <= 0xd7ff:
		return true
	case r < 0xe000:
		return false
	case r <= 0xfffd:
		return true
	case r < 0x10000:
		return false
	}
	return r <= utf8.MaxRune
}
