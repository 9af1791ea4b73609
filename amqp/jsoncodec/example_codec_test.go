package jsoncodec_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/rpcwire/rpcwire/amqp/jsoncodec"
	"github.com/rpcwire/rpcwire/transport"
)

// A Codec turns calls and replies into JSON bodies and back, with no
// transport involved: this is what the AMQP client and server do around
// each call with codec=json.
func ExampleCodec() {
	var c jsoncodec.Codec

	// Client side: encode the call.
	body, err := c.AppendCall(nil, "fun_add", []any{2, 3})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", body)

	// Server side: decode it (integers arrive as int64), run it and
	// encode the reply.
	method, args, err := c.DecodeCall(body)
	if err != nil {
		panic(err)
	}
	reply, err := c.AppendReply(nil, args[0].(int64)+args[1].(int64))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s%v → %s\n", method, args, reply)

	// Client side: decode the reply.
	result, err := c.DecodeReply(reply)
	fmt.Println(result, err)

	// Values JSON has no type for travel tagged; floats keep a fraction.
	reply, _ = c.AppendReply(nil, map[string]any{
		"data": []byte("hi"), "at": time.Date(2026, 11, 25, 13, 55, 16, 0, time.UTC), "ratio": 2.0,
	})
	fmt.Printf("%s\n", reply)

	// A fault comes back as *transport.RemoteError.
	_, err = c.DecodeReply(c.AppendFault(nil, &transport.RemoteError{Code: -32601, Message: "method not found"}))
	var re *transport.RemoteError
	fmt.Println(errors.As(err, &re), re.Code, re.Message)

	// Malformed input is an error wrapping transport.ErrParse.
	_, _, err = c.DecodeCall([]byte(`{"method":"f","params":[{"$base64":"!"}]}`))
	fmt.Println(errors.Is(err, transport.ErrParse), err)
	// Output:
	// {"method":"fun_add","params":[2,3]}
	// fun_add[2 3] → {"result":5}
	// 5 <nil>
	// {"result":{"at":{"$datetime":"2026-11-25T13:55:16Z"},"data":{"$base64":"aGk="},"ratio":2.0}}
	// true -32601 method not found
	// true rpcwire: malformed message: json: params[0]: $base64: illegal base64 data at input byte 0
}
