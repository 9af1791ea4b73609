package xmlcodec

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// hostileBodies make large hostile inputs of size about n elements.
var hostileBodies = map[string]func(n int) string{
	"nested arrays":  func(n int) string { return value(strings.Repeat("<value><array><data>", n)) },
	"nested structs": func(n int) string { return value(strings.Repeat("<value><struct><member><name>a</name>", n)) },
	"many comments":  func(n int) string { return value("<value>" + strings.Repeat("<!-- c -->", n) + "</value>") },
	"open comments":  func(n int) string { return value("<value>" + strings.Repeat("<!--", n)) },
	"many refs":      func(n int) string { return value("<value>" + strings.Repeat("&amp;", n) + "</value>") },
	"bad refs":       func(n int) string { return value("<value>" + strings.Repeat("&", n)) },
	"many cdata":     func(n int) string { return value("<value>" + strings.Repeat("<![CDATA[x]]>", n) + "</value>") },
	"open cdata":     func(n int) string { return value("<value>" + strings.Repeat("<![CDATA[", n)) },
	"pis":            func(n int) string { return strings.Repeat("<?pi x?>", n) + value("<value/>") },
	"open pis":       func(n int) string { return strings.Repeat("<?", n) },
	"many attrs":     func(n int) string { return "<methodCall" + strings.Repeat(` a="1"`, n) + ">" },
	"open attr":      func(n int) string { return "<methodCall a=\"" + strings.Repeat("x", 20*n) },
	"long name":      func(n int) string { return "<" + strings.Repeat("m", 20*n) },
	"many values": func(n int) string {
		return value("<value><array><data>" + strings.Repeat("<value/>", n) + "</data></array></value>")
	},
	"many members": func(n int) string {
		return value("<value><struct>" + strings.Repeat("<member><name>k</name><value/></member>", n) + "</struct></value>")
	},
	"long text": func(n int) string { return value("<value>" + strings.Repeat("é", 10*n) + "</value>") },
	"many params": func(n int) string {
		return "<methodCall><methodName>m</methodName><params>" + strings.Repeat("<param><value/></param>", n) + "</params></methodCall>"
	},
	"whitespace":    func(n int) string { return strings.Repeat(" \n", 10*n) },
	"many end tags": func(n int) string { return strings.Repeat("</value>", n) },
	"base64 whitespace": func(n int) string {
		return value("<value><base64>" + strings.Repeat("QUJD \n", n) + "</base64></value>")
	},
}

// TestDecodeHostileBodies feeds about 1 MB of each hostile shape and checks
// the decoder rejects or accepts it without a panic and without hanging
// (the bound is generous: it only catches runaway work). Whether the cost
// grows linearly is a speed question, answered by BenchmarkDecodeHostile
// at two sizes in the same run.
func TestDecodeHostileBodies(t *testing.T) {
	for name, gen := range hostileBodies {
		body := []byte(gen(50_000))
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _, _ = Codec{}.DecodeCall(body)
			_, _ = Codec{}.DecodeReply(body)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s (%d bytes): decoding did not finish in 30s", name, len(body))
		}
	}
}

// BenchmarkDecodeHostile decodes each hostile shape at n and 8n elements:
// linear decoding shows about 8x the time per op between the two sizes.
func BenchmarkDecodeHostile(b *testing.B) {
	names := make([]string, 0, len(hostileBodies))
	for name := range hostileBodies {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, n := range []int{6_000, 48_000} {
			body := []byte(hostileBodies[name](n))
			b.Run(fmt.Sprintf("%s/n=%d", strings.ReplaceAll(name, " ", "_"), n), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					_, _, _ = Codec{}.DecodeCall(body)
				}
			})
		}
	}
}
