package testtls

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTLSProxy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.Copy(c, c) // echo, one connection at a time
			c.Close()
		}
	}()
	certs := NewTLS(t)
	addr := TLSProxy(t, ln.Addr().String(), certs.Server)

	_, err = tls.Dial("tcp", addr, &tls.Config{MinVersion: tls.VersionTLS12})
	require.Error(t, err, "a client without the test CA must not trust the proxy")

	conn, err := tls.Dial("tcp", addr, certs.Client)
	require.NoError(t, err)
	_, err = conn.Write([]byte("ping\n"))
	require.NoError(t, err)
	line, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "ping\n", line)
	require.NoError(t, conn.Close())
	ln.Close()
	<-done
	assert.Contains(t, string(certs.CAPEM), "BEGIN CERTIFICATE")
}
