package wire_test

import (
	"fmt"
	"time"

	"github.com/rpcwire/rpcwire/transport/wire"
)

func ExampleAssign() {
	// A client decodes a reply into wire values, then stores them in the
	// caller's variable with Assign.
	type Point struct {
		X, Y  int
		Label string `rpc:"label"`
	}
	w := map[string]any{"X": int64(3), "Y": int64(-4), "label": "corner", "extra": "ignored"}

	var p Point
	if err := wire.Assign(&p, w); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", p)

	var when time.Time // Python's xmlrpc.client sends dates like this
	_ = wire.Assign(&when, "20260125T14:06:04")
	fmt.Println(when)

	var small int8
	fmt.Println(wire.Assign(&small, int64(200)))
	fmt.Println(wire.Assign(p, w))
	// Output:
	// {X:3 Y:-4 Label:corner}
	// 2026-01-25 14:06:04 +0000 UTC
	// 200 overflows int8 (-128 to 127)
	// rpcwire: reply must be a non-nil pointer, got wire_test.Point
}
