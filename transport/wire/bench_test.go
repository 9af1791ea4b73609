package wire_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport/wire"
)

type benchPoint struct {
	X, Y  int
	Label string `rpc:"label"`
}

// BenchmarkConvert measures the conversions every transport makes: a Go
// result to wire values, and a wire reply into the caller's variable.
func BenchmarkConvert(b *testing.B) {
	p := benchPoint{X: 1, Y: 2, Label: "p"}
	w, err := wire.Convert(p)
	require.NoError(b, err)
	b.Run("Convert/struct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := wire.Convert(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Assign/int", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			if err := wire.Assign(&n, int64(3000)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Assign/struct", func(b *testing.B) {
		b.ReportAllocs()
		var got benchPoint
		for b.Loop() {
			if err := wire.Assign(&got, w); err != nil {
				b.Fatal(err)
			}
		}
	})
}
