package xmlcodec

import (
	"testing"

	kolo "github.com/kolo/xmlrpc"
)

// pyResponse5 is what Python's SimpleXMLRPCServer answers to fun_add(2, 3).
const pyResponse5 = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>5</int></value>\n</param>\n</params>\n</methodResponse>\n"

// Each benchmark has a sub-benchmark for our codec and one for the kolo
// route, so one run shows the ratio.

func BenchmarkDecodeCall(b *testing.B) {
	body := []byte(pyFunAdd)
	benchDecodeCall(b, body)
}

func BenchmarkDecodeResponse(b *testing.B) {
	body := []byte(pyResponse5)
	b.Run("rpcwire", func(b *testing.B) {
		b.ReportAllocs()
		c := Codec{}
		for b.Loop() {
			if _, err := c.DecodeReply(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kolo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := koloDecodeReply(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncodeCall(b *testing.B) {
	args := []any{2, 3}
	b.Run("rpcwire", func(b *testing.B) {
		b.ReportAllocs()
		c := Codec{}
		buf := make([]byte, 0, 512)
		for b.Loop() {
			var err error
			if buf, err = c.AppendCall(buf[:0], "fun_add", args); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kolo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := kolo.EncodeMethodCall("fun_add", args...); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEncodeResponse has no kolo sub-benchmark: kolo cannot encode a
// methodResponse.
func BenchmarkEncodeResponse(b *testing.B) {
	b.Run("rpcwire", func(b *testing.B) {
		b.ReportAllocs()
		c := Codec{}
		buf := make([]byte, 0, 512)
		var result any = int64(5)
		for b.Loop() {
			var err error
			if buf, err = c.AppendReply(buf[:0], result); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeNested decodes Python's body for a call with a nested
// struct of arrays, strings, doubles, base64 and a dateTime.
func BenchmarkDecodeNested(b *testing.B) {
	body := goldenBody(b, "call_nested")
	benchDecodeCall(b, body)
}

// benchDecodeCall decodes body with our codec and with the kolo route, as
// sub-benchmarks of one run so their ratio means something.
func benchDecodeCall(b *testing.B, body []byte) {
	for _, tc := range []struct {
		name   string
		decode func([]byte) (string, []any, error)
	}{{"rpcwire", Codec{}.DecodeCall}, {"kolo", koloDecodeCall}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, _, err := tc.decode(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
