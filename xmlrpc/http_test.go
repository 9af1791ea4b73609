package xmlrpc_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/transporttest"
	"github.com/rpcwire/rpcwire/xmlrpc"
)

func TestConformance(t *testing.T) {
	transporttest.Run(t, transporttest.Transport{
		Name: "xmlrpc",
		Listen: func(ctx context.Context, d transport.Dispatcher) (transport.Server, error) {
			return xmlrpc.Listen(ctx, &url.URL{Scheme: "http", Host: "127.0.0.1:0", Path: "/rpc"}, d)
		},
		Dial: func(ctx context.Context, addr string) (transport.Client, error) {
			u, err := url.Parse(addr)
			if err != nil {
				return nil, err
			}
			return xmlrpc.Dial(ctx, u)
		},
	})
}
