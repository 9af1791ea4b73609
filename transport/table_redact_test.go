package transport_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
)

// TestTableErrorsHideCredentials: a URL that fails to parse, or names an
// unknown scheme, gives an error without any piece of its password, even
// when the password holds characters that break parsing.
func TestTableErrorsHideCredentials(t *testing.T) {
	tab := transport.NewTable(map[string]transport.Scheme{"x": {}})
	for _, raw := range []string{
		"http://u:S3cr/et@127.0.0.1:1/",   // "/" ends the host early: invalid port ":S3cr"
		"http://u:S3cr%zzet@127.0.0.1:1/", // invalid escape "%zz"
		"http://u:S3cr et@h[/",            // invalid host
		"gopher://u:S3cret@h/",            // unknown scheme
		"//u:S3cret@h/",                   // no scheme
	} {
		_, err := tab.Dial(context.Background(), raw)
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), "S3cr", raw)
		_, err = tab.Listen(context.Background(), raw, nil)
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), "S3cr", raw)
	}
	_, err := tab.Dial(context.Background(), "http://h:port/")
	assert.ErrorContains(t, err, `":port"`, "without credentials the cause is quoted in full")
}
