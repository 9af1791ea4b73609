package jsoncodec

import (
	"testing"
	"time"
)

// Codec micro-benchmarks: fun_add(2, 3) and a nested struct with every
// value type, each way. Compare with the amqp package's BenchmarkCodec
// for a whole round trip's codec share:
//
//	go test -run '^$' -bench . -benchmem ./amqp/jsoncodec

// benchNested is a struct of the kind a real method returns: nested
// structs and arrays, floats, bytes and a time.
var benchNested = map[string]any{
	"id": int64(42), "name": "widget <large>", "price": 9.75, "active": true, "note": nil,
	"tags": []any{"a", "b", "c"},
	"dims": map[string]any{"w": 1.5, "h": 2.0, "d": int64(3)},
	"parts": []any{
		map[string]any{"n": int64(1), "ok": true, "label": "first"},
		map[string]any{"n": int64(2), "ok": false, "label": "second", "weights": []any{0.5, 0.25, int64(7)}},
	},
	"blob":    []byte("hello, world"),
	"updated": time.Date(2026, 11, 25, 13, 55, 16, 123456789, time.UTC),
}

var benchCases = []struct {
	name string
	args []any
}{
	{"fun_add", []any{2, 3}},
	{"nested", []any{benchNested, []any{benchNested, int64(1)}}},
}

func BenchmarkEncodeCall(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			c := Codec{}
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				var err error
				if buf, err = c.AppendCall(buf[:0], "fun_add", bc.args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeCall(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			c := Codec{}
			body, err := c.AppendCall(nil, "fun_add", bc.args)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.DecodeCall(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchResult is the result of a bench case: fun_add's 5, or the nested
// struct.
func benchResult(name string) any {
	if name == "fun_add" {
		return int64(5)
	}
	return benchNested
}

func BenchmarkEncodeReply(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			c := Codec{}
			result := benchResult(bc.name)
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				var err error
				if buf, err = c.AppendReply(buf[:0], result); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeReply(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			c := Codec{}
			body, err := c.AppendReply(nil, benchResult(bc.name))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.DecodeReply(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
