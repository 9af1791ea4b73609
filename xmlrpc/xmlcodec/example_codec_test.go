package xmlcodec_test

import (
	"errors"
	"fmt"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/xmlrpc/xmlcodec"
)

// A Codec turns calls and replies into XML-RPC bodies and back, with no
// transport involved: this is what the HTTP server and the AMQP transport
// do around each call.
func ExampleCodec() {
	var c xmlcodec.Codec // the zero value has the default limits

	// Client side: encode the call.
	body, err := c.AppendCall(nil, "fun_add", []any{2, 3})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s", body)

	// Server side: decode it (values arrive as wire values: int64 here),
	// run it and encode the reply.
	method, args, err := c.DecodeCall(body)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s%v\n", method, args)
	reply, err := c.AppendReply(nil, args[0].(int64)+args[1].(int64))
	if err != nil {
		panic(err)
	}

	// Client side: decode the reply.
	result, err := c.DecodeReply(reply)
	fmt.Println(result, err)

	// A fault comes back as *transport.RemoteError.
	_, err = c.DecodeReply(c.AppendFault(nil, &transport.RemoteError{Code: 4, Message: "too many parameters"}))
	var re *transport.RemoteError
	fmt.Println(errors.As(err, &re), re.Code, re.Message)

	// Malformed input is an error wrapping transport.ErrParse that says
	// what and where.
	_, _, err = c.DecodeCall([]byte("<methodCall><methodName>m</methodName><params><param><value><int>x</int>"))
	fmt.Println(errors.Is(err, transport.ErrParse), err)
	// Output:
	// <?xml version="1.0"?>
	// <methodCall><methodName>fun_add</methodName><params><param><value><int>2</int></value></param><param><value><int>3</int></value></param></params></methodCall>
	// fun_add[2 3]
	// 5 <nil>
	// true 4 too many parameters
	// true rpcwire: malformed message: xml-rpc: <int> "x" is not a 64-bit integer (at byte 65)
}
