package amqp

import (
	"net/url"
	"testing"
	"time"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseURL(t *testing.T) {
	parse := func(raw string) (*config, error) {
		u, err := transport.ParseURL(raw)
		if err != nil {
			return nil, err
		}
		return parseURL(u)
	}
	c, err := parse("amqp://guest:s3cret@127.0.0.1:5672/")
	require.NoError(t, err)
	assert.Equal(t, DefaultQueue, c.queue)
	assert.Equal(t, "xml", c.codec)
	assert.Zero(t, c.workers, "unset: the server decides")
	assert.Zero(t, c.prefetch, "unset: the server decides")
	assert.False(t, c.durable || c.quorum || c.exclusive || c.autoDelete)
	assert.Equal(t, "amqp://127.0.0.1:5672/", c.addr, "no credentials in Addr")
	assert.Equal(t, []string{"amqp://guest:s3cret@127.0.0.1:5672/"}, c.brokerURLs)
	assert.True(t, c.shuffle, "several addresses are tried in a random order by default")

	c, err = parse("AMQPS://u:p@h/vh?queue=billing&codec=json&method=fib&workers=8&quorum=true&heartbeat=5&timeout=2s")
	require.NoError(t, err)
	assert.True(t, c.tls)
	assert.Equal(t, "billing", c.queue)
	assert.Equal(t, "json", c.codec)
	assert.Equal(t, "fib", c.codecs.text.(TextCodec).Method)
	assert.Equal(t, 8, c.workers)
	assert.Zero(t, c.prefetch)
	assert.True(t, c.quorum && c.durable)
	assert.Equal(t, 2*time.Second, c.timeout)
	assert.Equal(t, []string{"amqps://u:p@h:5671/vh?heartbeat=5"}, c.brokerURLs, "only amqp091's parameters reach it")
	assert.Equal(t, "amqps://h/vh?codec=json&durable=true&heartbeat=5&queue=billing", c.addr, "clients of a quorum queue publish persistent requests")

	c, err = parse("amqp://h/?workers=4&prefetch=100")
	require.NoError(t, err)
	assert.Equal(t, 4, c.workers)
	assert.Equal(t, 100, c.prefetch)

	for raw, want := range map[string]string{
		"amqp://u:s3cret@h1:5691,,h2/":        "empty host",
		"amqp://u:s3cret@h1:5691,h2:x/":       `bad host "h2:x"`,
		"amqp://u:s3cret@h1:0/":               `bad port "0"`,
		"amqp://u:s3cret@h1/;amqp://u:p2@h2/": "several URLs in one are not supported: name the brokers as a host list",
		"amqp://u:s3cret@h1/?queue=amqp://x":  "several URLs",
		"amqp://u:s3cret@h1/?shuffle=maybe":   "shuffle must be true or false",
		"http://h/":                           "scheme must be amqp",
		"amqp://u:s3cret@h/?qeue=x":           `unknown parameter "qeue" (known: queue, codec`,
		"amqp://h/?codec=yaml":                `unknown codec "yaml" (known: xml, json, text)`,
		"amqp://h/?workers=0":                 "workers must be an integer from 1 to 4096",
		"amqp://h/?prefetch=x":                "prefetch must be",
		"amqp://h/?durable=maybe":             "durable must be true or false",
		"amqp://h/?quorum=true&durable=false": "always durable",
		"amqp://h/?quorum=true&exclusive=1":   "cannot be exclusive",
		"amqp://h/?timeout=-1s":               "timeout must be a positive duration",
		"amqp://h/?queue=a&queue=b":           "given 2 times",
	} {
		_, err := parse(raw)
		require.Error(t, err, raw)
		assert.Contains(t, err.Error(), want, raw)
		assert.NotContains(t, err.Error(), "s3cret", raw)
		assert.NotContains(t, err.Error(), "p2@", raw)
	}
	// A host list: one set of credentials, vhost and parameters; a host
	// without a port gets the scheme's.
	u, err := transport.ParseURL("amqp://u:s3cret@127.0.0.1:5691,127.0.0.1:5692,localhost/vh?queue=q&shuffle=false&heartbeat=5")
	require.NoError(t, err)
	c, err = parseURL(u)
	require.NoError(t, err)
	assert.Equal(t, []string{"127.0.0.1:5691", "127.0.0.1:5692", "localhost:5672"}, c.hosts)
	assert.Equal(t, []string{
		"amqp://u:s3cret@127.0.0.1:5691/vh?heartbeat=5",
		"amqp://u:s3cret@127.0.0.1:5692/vh?heartbeat=5",
		"amqp://u:s3cret@localhost:5672/vh?heartbeat=5",
	}, c.brokerURLs)
	assert.False(t, c.shuffle)
	assert.Equal(t, "amqp://127.0.0.1:5691,127.0.0.1:5692,localhost/vh?heartbeat=5&queue=q&shuffle=false", c.addr)
	assert.Equal(t, "amqp://u:xxxxx@127.0.0.1:5691,127.0.0.1:5692,localhost/vh?queue=q&shuffle=false&heartbeat=5", c.redacted)
	u, err = transport.ParseURL("amqps://[::1],[::1]:5000/")
	require.NoError(t, err)
	c, err = parseURL(u)
	require.NoError(t, err)
	assert.Equal(t, []string{"[::1]:5671", "[::1]:5000"}, c.hosts)

	_, err = parseURL(nil)
	assert.Error(t, err)
}

func TestBackoff(t *testing.T) {
	for n, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond} {
		for range 100 {
			d := backoff(n)
			assert.True(t, d >= want/2 && d <= want, "attempt %d: %v not in [%v, %v]", n, d, want/2, want)
		}
	}
	for _, n := range []int{6, 16, 1000} {
		d := backoff(n)
		assert.True(t, d >= maxBackoff/2 && d <= maxBackoff, "attempt %d: %v", n, d)
	}
}

func TestAddressOrder(t *testing.T) {
	c := &config{brokerURLs: []string{"a", "b", "c"}}
	a := newAddresses(c) // shuffle false: the given order
	assert.Equal(t, []int{0, 1, 2}, a.round())
	a.used(0)
	assert.Equal(t, []int{1, 2, 0}, a.round(), "after a lost connection to a, b comes first")
	a.used(2)
	assert.Equal(t, []int{0, 1, 2}, a.round())

	c.shuffle = true
	seen := map[int]bool{}
	for range 200 {
		seen[newAddresses(c).round()[0]] = true
	}
	assert.Len(t, seen, 3, "shuffled: every address comes first sometimes")
}

func TestWithHosts(t *testing.T) {
	base, err := url.Parse("amqp://u:p@ignored/vh?queue=q")
	require.NoError(t, err)
	u, err := WithHosts(base, "10.0.0.1:5672", "10.0.0.2", "[::1]:5673")
	require.NoError(t, err)
	assert.Equal(t, "amqp://u:p@10.0.0.1:5672,10.0.0.2,[::1]:5673/vh?queue=q", u.String())
	assert.Equal(t, "ignored", base.Host, "u is not changed")
	c, err := parseURL(u)
	require.NoError(t, err)
	assert.Equal(t, []string{"10.0.0.1:5672", "10.0.0.2:5672", "[::1]:5673"}, c.hosts)
	for _, bad := range [][]string{nil, {""}, {"a,b"}, {"h:x"}, {"u@h"}} {
		_, err := WithHosts(base, bad...)
		assert.Error(t, err, "%q", bad)
	}
}
