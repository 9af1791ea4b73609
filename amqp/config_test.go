package amqp

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseURL(t *testing.T) {
	parse := func(raw string) (*config, error) {
		u, err := url.Parse(raw)
		require.NoError(t, err)
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
	assert.Equal(t, "amqp://guest:s3cret@127.0.0.1:5672/", c.brokerURL)

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
	assert.Equal(t, "amqps://u:p@h/vh?heartbeat=5", c.brokerURL, "only amqp091's parameters reach it")
	assert.Equal(t, "amqps://h/vh?codec=json&durable=true&heartbeat=5&queue=billing", c.addr, "clients of a quorum queue publish persistent requests")

	c, err = parse("amqp://h/?workers=4&prefetch=100")
	require.NoError(t, err)
	assert.Equal(t, 4, c.workers)
	assert.Equal(t, 100, c.prefetch)

	for raw, want := range map[string]string{
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
	}
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
