package main

import (
	"context"
	"net"
	"testing"

	"github.com/rpcwire/rpcwire/internal/logbuf"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLogHidesPasswords: whatever is wrong with a listen URL holding a
// password (a taken port, no broker, an unknown parameter or scheme, a
// password that breaks URL parsing), the server's log line names the
// problem without the password.
func TestLogHidesPasswords(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	taken := ln.Addr().String()
	for _, raw := range []string{
		"http://u:S3cret@" + taken + "/",
		"amqp://u:S3cret@127.0.0.1:1/",
		"amqp://u:S3cret@127.0.0.1:1/?bogus=1",
		"gopher://u:S3cret@x/",
		"http://u:S3cr/et@127.0.0.1:1/",
		"amqp://u:S3cr%zzet@127.0.0.1:1/",
	} {
		var log logbuf.Buffer
		assert.Equal(t, 1, run(context.Background(), []string{"-listen", raw}, &log, nil), raw)
		assert.Contains(t, log.String(), "cannot listen", raw)
		assert.NotContains(t, log.String(), "S3cr", raw)
	}
}
