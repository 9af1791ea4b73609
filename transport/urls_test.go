package transport_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
)

func TestParseURLHostList(t *testing.T) {
	cases := []struct {
		raw, host, user, path, query string
	}{
		{"amqp://u:p@h1:5672,h2:5672,h3/vh?queue=q", "h1:5672,h2:5672,h3", "u", "/vh", "queue=q"},
		{"amqp://h1,h2", "h1,h2", "", "", ""},
		{"amqp://u:p@[::1]:5672,127.0.0.1:5673/", "[::1]:5672,127.0.0.1:5673", "u", "/", ""},
		{"amqp://u:p%40w@h1:1,h2:2/%2F", "h1:1,h2:2", "u", "//", ""},
		{"http://h:8080/x", "h:8080", "", "/x", ""},
	}
	for _, c := range cases {
		u, err := transport.ParseURL(c.raw)
		require.NoError(t, err, c.raw)
		assert.Equal(t, c.host, u.Host, c.raw)
		assert.Equal(t, c.user, u.User.Username(), c.raw)
		assert.Equal(t, c.path, u.Path, c.raw)
		assert.Equal(t, c.query, u.RawQuery, c.raw)
	}
	u, err := transport.ParseURL("amqp://u:p@w0rd@h1:1,h2/")
	require.NoError(t, err)
	pw, _ := u.User.Password()
	assert.Equal(t, "p@w0rd", pw, "the last @ ends the user info, as in url.Parse")

	for _, raw := range []string{"amqp://u:s3cret@h1,,h2/", "amqp://u:s3cret@h1,h2:port/", "amqp://u:s3cret@h1,h 2/x"} {
		_, err := transport.ParseURL(raw)
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), "s3cret", raw)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"amqp://u:s3cret@h/":                         "amqp://u:xxxxx@h/",
		"amqp://u:s3cret@h1:1,h2:2/vh?x=1":           "amqp://u:xxxxx@h1:1,h2:2/vh?x=1",
		"amqp://u:a@h1/;amqp://v:b@h2/":              "amqp://u:xxxxx@h1/;amqp://v:xxxxx@h2/",
		"amqp://u:pa@ss@h/":                          "amqp://u:xxxxx@h/",
		"amqp://u@h/":                                "amqp://u@h/",
		"connect to amqp://g:pw@h and http://x:y@z/": "connect to amqp://g:xxxxx@h and http://x:xxxxx@z/",
		"no url here":                                "no url here",
	} {
		assert.Equal(t, want, transport.Redact(in), in)
	}
}
