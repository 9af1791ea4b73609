// Package testtls makes throwaway TLS certificates (a CA and a server
// certificate for 127.0.0.1) and a TLS-terminating proxy for tests of
// https:// and amqps://.
package testtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TLS holds certificates made for one test: a CA, a server certificate
// for 127.0.0.1 and localhost signed by it, and configurations for both
// sides that trust only that CA.
type TLS struct {
	// Server presents the server certificate.
	Server *tls.Config
	// Client trusts the test CA (and nothing else).
	Client *tls.Config
	// CAPEM is the CA certificate in PEM form.
	CAPEM []byte
}

// NewTLS makes a CA and a server certificate valid for an hour.
func NewTLS(t testing.TB) *TLS {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "rpcwire test CA"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &TLS{
		Server: &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
			MinVersion:   tls.VersionTLS12,
		},
		Client: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		CAPEM:  pemEncode(caDER),
	}
}

func pemEncode(der []byte) []byte {
	const line = 64
	enc := []byte(base64.StdEncoding.EncodeToString(der))
	out := []byte("-----BEGIN CERTIFICATE-----\n")
	for len(enc) > line {
		out = append(append(out, enc[:line]...), '\n')
		enc = enc[line:]
	}
	out = append(append(out, enc...), '\n')
	return append(out, "-----END CERTIFICATE-----\n"...)
}

// TLSProxy listens with TLS on 127.0.0.1 and forwards every connection,
// decrypted, to target (host:port). It lets tests exercise a TLS client
// (amqps://) against a service that only speaks plain TCP. The proxy and
// its connections stop when the test ends. It returns the proxy's address.
func TLSProxy(t testing.TB, target string, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
	)
	track := func(c net.Conn, add bool) {
		mu.Lock()
		defer mu.Unlock()
		if add {
			conns[c] = struct{}{}
		} else {
			delete(conns, c)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return // listener closed by cleanup
			}
			out, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				in.Close()
				continue
			}
			track(in, true)
			track(out, true)
			wg.Add(2)
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				_, _ = io.Copy(dst, src)
				// Closing both ends stops the other direction too.
				dst.Close()
				src.Close()
				track(dst, false)
				track(src, false)
			}
			go pipe(out, in)
			go pipe(in, out)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}
