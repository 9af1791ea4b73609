package xmlcodec

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// Fuzz targets. Seeds: the golden bodies (added here, so they stay in
// sync with gen.py) and the committed corpus in testdata/fuzz/<FuzzName>/
// (hostile inputs and every crasher found so far).

func addGoldenSeeds(f *testing.F, kind string) {
	paths, err := filepath.Glob(filepath.Join("testdata", "golden", kind+"*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
}

// checkDecodeError checks the contract every decode error keeps.
func checkDecodeError(t *testing.T, err error, body []byte) {
	t.Helper()
	if !errors.Is(err, transport.ErrParse) {
		t.Fatalf("error does not wrap ErrParse: %v", err)
	}
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error is not a *SyntaxError: %v", err)
	}
	if se.Offset < 0 || se.Offset > len(body) {
		t.Fatalf("offset %d outside body of %d bytes: %v", se.Offset, len(body), err)
	}
}

// canonical makes a decoded value comparable with what re-encoding and
// decoding it again gives: times go to UTC whole seconds, as the encoder
// sends them.
func canonical(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Truncate(time.Second)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canonical(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = canonical(e)
		}
		return out
	}
	return v
}

// wellFormed has encoding/xml read body to the end: it is the oracle that
// what our scanner accepts is well-formed XML.
func wellFormed(body []byte) error {
	if bigEndian, start, ok := utf16Order(body); ok {
		// encoding/xml reads UTF-8 only: hand it the text (unicode/utf16,
		// not the decoder's own transcoder).
		if (len(body)-start)%2 != 0 {
			return errors.New("odd UTF-16 length")
		}
		units := make([]uint16, 0, (len(body)-start)/2)
		for i := start; i+1 < len(body); i += 2 {
			if bigEndian {
				units = append(units, uint16(body[i])<<8|uint16(body[i+1]))
			} else {
				units = append(units, uint16(body[i+1])<<8|uint16(body[i]))
			}
		}
		body = []byte(string(utf16.Decode(units)))
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		cs, ok := charsetNamed([]byte(label))
		switch {
		case !ok:
			return nil, errors.New("unknown encoding " + label)
		case cs == charsetLatin1 || cs == charsetWin1252:
			// Every byte is one character; for well-formedness it does
			// not matter which, so map bytes as ISO-8859-1 does.
			raw, err := io.ReadAll(input)
			if err != nil {
				return nil, err
			}
			var b strings.Builder
			for _, c := range raw {
				b.WriteRune(rune(c))
			}
			return strings.NewReader(b.String()), nil
		}
		return input, nil // US-ASCII (read as UTF-8), or UTF-16 already transcoded above
	}
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// nonASCIIName reports whether encoding/xml refused a name for a
// non-ASCII character in it: the scanner takes every non-ASCII character
// as a name character (a little more than XML allows, see decoder.name),
// and random UTF-16 bodies are mostly such characters.
func nonASCIIName(err error) bool {
	msg := err.Error()
	i := strings.Index(msg, "invalid XML name: ")
	return i >= 0 && !isASCII(msg[i+len("invalid XML name: "):])
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// addEncodingSeeds adds bodies in each encoding the decoder reads.
func addEncodingSeeds(f *testing.F, body string) {
	f.Add([]byte(`<?xml version="1.0" encoding="iso-8859-1"?>` + strings.ReplaceAll(body, "é", "\xe9")))
	f.Add([]byte(`<?xml version="1.0" encoding="windows-1252"?>` + strings.ReplaceAll(body, "é", "\x80")))
	f.Add(utf16Body(`<?xml version="1.0" encoding="UTF-16"?>`+body, false, true))
}

func FuzzDecodeCall(f *testing.F) {
	addGoldenSeeds(f, "call")
	addEncodingSeeds(f, value("<value><string>é</string></value>"))
	c := Codec{MaxDepth: 20, MaxElements: 10_000}
	f.Fuzz(func(t *testing.T, body []byte) {
		method, args, err := c.DecodeCall(body)
		if err != nil {
			checkDecodeError(t, err, body)
			return
		}
		if err := wellFormed(body); err != nil && !nonASCIIName(err) {
			t.Fatalf("accepted what encoding/xml refuses: %v", err)
		}
		// What decodes re-encodes (unless a double is infinite or a time
		// is out of range) and decodes to the same values.
		again, err := c.AppendCall(nil, method, args)
		if err != nil {
			var ce *wire.ConversionError
			if !errors.As(err, &ce) || !(strings.Contains(ce.Reason, "double") || strings.Contains(ce.Reason, "year")) {
				t.Fatalf("re-encode: %v", err)
			}
			return
		}
		method2, args2, err := c.DecodeCall(again)
		if err != nil {
			t.Fatalf("decode of re-encoded: %v\n%s", err, again)
		}
		if method2 != method {
			t.Fatalf("method %q became %q", method, method2)
		}
		assertSameValues(t, []any{canonical(args)}, []any{canonical(args2)})
	})
}

func FuzzDecodeReply(f *testing.F) {
	addGoldenSeeds(f, "response")
	addGoldenSeeds(f, "fault")
	addEncodingSeeds(f, "<methodResponse><params><param><value>é</value></param></params></methodResponse>")
	c := Codec{MaxDepth: 20, MaxElements: 10_000}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := c.DecodeReply(body)
		var re *transport.RemoteError
		if err == nil || errors.As(err, &re) {
			if err := wellFormed(body); err != nil && !nonASCIIName(err) {
				t.Fatalf("accepted what encoding/xml refuses: %v", err)
			}
		}
		if errors.As(err, &re) {
			again := c.AppendFault(nil, re)
			_, err2 := c.DecodeReply(again)
			var re2 *transport.RemoteError
			if !errors.As(err2, &re2) || re2.Code != re.Code {
				t.Fatalf("fault %v re-decoded as %v", re, err2)
			}
			return
		}
		if err != nil {
			checkDecodeError(t, err, body)
			return
		}
		again, err := c.AppendReply(nil, v)
		if err != nil {
			return // an infinite double or out-of-range time
		}
		v2, err := c.DecodeReply(again)
		if err != nil {
			t.Fatalf("decode of re-encoded: %v\n%s", err, again)
		}
		assertSameValues(t, []any{canonical(v)}, []any{canonical(v2)})
	})
}

// assertSameValues compares decoded values, treating NaN as equal to NaN.
func assertSameValues(t *testing.T, a, b []any) {
	t.Helper()
	if !sameValue(a, b) {
		t.Fatalf("values differ:\n%#v\n%#v", a, b)
	}
}

func sameValue(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || (math.IsNaN(x) && math.IsNaN(y)))
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, e := range x {
			if f, ok := y[k]; !ok || !sameValue(e, f) {
				return false
			}
		}
		return true
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return a == b
}

// xmlCarries reports whether s can travel as XML 1.0 text.
func xmlCarries(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !isXMLChar(r) {
			return false
		}
	}
	return true
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(1), "fun_add", "hello", int64(2), 3.5, []byte("xyz"))
	f.Add(uint64(2), "a&b<c>", "a\r\nb\x00", int64(math.MaxInt32)+1, 1e21, []byte{})
	f.Add(uint64(3), "m", "\xff\ufffe", int64(math.MinInt64), math.Inf(1), []byte(nil))
	f.Add(uint64(4), "", "]]>&amp;", int64(-1), 5e-324, []byte{0, 255})
	c := Codec{}
	f.Fuzz(func(t *testing.T, seed uint64, method, s string, n int64, fl float64, b []byte) {
		r := rand.New(rand.NewPCG(seed, seed>>7))
		if b == nil {
			b = []byte{}
		}
		args := []any{s, n, fl, b, []any{s, map[string]any{s: n, "r": randomValue(r, 2)}}}
		args = append(args, randomArgs(r)...)
		body, err := c.AppendCall(nil, method, args)
		wantErr := method == "" || !xmlCarries(method) || !xmlCarries(s) || math.IsNaN(fl) || math.IsInf(fl, 0)
		if wantErr {
			if err == nil {
				t.Fatalf("encoded what XML-RPC cannot carry: %q %q %v", method, s, fl)
			}
			return
		}
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		gotMethod, got, err := c.DecodeCall(body)
		if err != nil {
			t.Fatalf("decode: %v\n%s", err, body)
		}
		if gotMethod != method {
			t.Fatalf("method %q came back as %q", method, gotMethod)
		}
		assertSameValues(t, args, got)
	})
}
