package amqp

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rpcwire/rpcwire/transport"
)

// Defaults of the URL parameters.
const (
	// DefaultQueue is the request queue when the URL names none: the
	// article's (and RabbitMQ tutorial six's) queue.
	DefaultQueue = "rpc_queue"
	// DefaultWorkers is how many calls one server runs at once when the
	// URL has no workers parameter, and its prefetch. The pool is
	// elastic (one worker, another only while all are busy), so cheap
	// calls run on a few goroutines whatever the limit; slow ones get up
	// to 128 at once, and the broker holds the rest. A prefetch above
	// the calls in flight keeps requests coming while earlier ones wait
	// for their replies' confirms: at 64 calls in flight, 128 serves
	// about 15% more calls per second than 32 did (README,
	// "Performance"). Each prefetched request is in memory: up to
	// prefetch × the size limit of request bodies (512 MiB at the
	// defaults) from senders that keep to the limit, and up to prefetch ×
	// the broker's max_message_size from those that do not (see the
	// package documentation); lower prefetch for large messages.
	DefaultWorkers = 128
	// MaxWorkers bounds the workers and prefetch parameters.
	MaxWorkers = 4096
)

// Backoff of reconnect attempts after the broker connection is lost.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// ourParams are the URL query parameters rpcwire reads; brokerParams are
// passed to amqp091-go (see amqp091.ParseURI).
var (
	ourParams = []string{
		"queue", "codec", "method", "prefetch", "workers",
		"durable", "quorum", "exclusive", "auto_delete", "timeout", "dead_letter",
		"dead_letter_queue", "shuffle",
	}
	brokerParams = []string{
		"heartbeat", "connection_timeout", "channel_max", "auth_mechanism",
		"certfile", "keyfile", "cacertfile", "server_name_indication",
	}
)

// deadLettering reports whether poison requests are rejected to a
// dead-letter exchange or queue rather than acked and dropped.
func (c *config) deadLettering() bool { return c.deadLetter != "" || c.deadLetterQueue != "" }

// config is what an amqp:// URL says, validated.
type config struct {
	brokerURLs []string // what amqp091 dials, one per broker address: no rpcwire parameters
	hosts      []string // host:port of each address, in the URL's order, for messages
	shuffle    bool     // try the addresses in a random order (default)
	redacted   string   // the URL for messages: password replaced
	addr       string   // the URL clients dial: no credentials
	tls        bool

	queue    string
	codecs   codecs        // with the server's default method
	codec    string        // the client's codec's name
	workers  int           // 0: not in the URL
	prefetch int           // 0: not in the URL
	timeout  time.Duration // 0: not in the URL

	deadLetter      string // exchange poison requests are dead-lettered to
	deadLetterQueue string // queue poison requests are dead-lettered to (default exchange)

	durable    bool
	quorum     bool
	exclusive  bool
	autoDelete bool
}

// parseURL validates u and applies the defaults that do not depend on
// options; clients and servers settle the rest (see client and server).
func parseURL(u *url.URL) (*config, error) {
	if u == nil {
		return nil, fmt.Errorf("rpcwire: amqp: nil URL")
	}
	redacted := transport.Redact(u.String())
	bad := func(format string, args ...any) error {
		return fmt.Errorf("rpcwire: amqp URL %s: %s", redacted, fmt.Sprintf(format, args...))
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "amqp" && scheme != "amqps" {
		return nil, bad("scheme must be amqp or amqps")
	}
	if u.Opaque != "" {
		return nil, bad("want amqp://user:pass@host:port/vhost")
	}
	if strings.Contains(u.Path+"?"+u.RawQuery, "://") {
		return nil, bad("several URLs in one are not supported: name the brokers as a host list in one URL, " +
			"amqp://user:pass@host1:5672,host2:5672,host3/vhost?params")
	}
	defaultPort := "5672"
	if scheme == "amqps" {
		defaultPort = "5671"
	}
	hosts, err := hostList(u.Host, defaultPort)
	if err != nil {
		return nil, bad("%v; write one host, or a list: amqp://user:pass@host1:5672,host2:5672,host3/vhost", err)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, bad("query: %v", err)
	}
	broker := url.Values{}
	for k, vs := range q {
		switch {
		case slices.Contains(brokerParams, k):
			broker[k] = vs
		case !slices.Contains(ourParams, k):
			return nil, bad("unknown parameter %q (known: %s)", k,
				strings.Join(append(slices.Clone(ourParams), brokerParams...), ", "))
		case len(vs) > 1:
			return nil, bad("parameter %q given %d times", k, len(vs))
		}
	}
	c := &config{
		hosts:    hosts,
		shuffle:  true,
		redacted: redacted,
		tls:      scheme == "amqps",
		queue:    DefaultQueue,
		codecs:   newCodecs(q.Get("method")),
		codec:    "xml",
	}
	if v := q.Get("queue"); v != "" {
		if len(v) > 255 {
			return nil, bad("queue name longer than 255 bytes")
		}
		c.queue = v
	}
	if q.Has("codec") {
		v := q.Get("codec")
		cc := c.codecs.byName(v)
		if cc == nil {
			return nil, bad("unknown codec %q (known: %s)", v, strings.Join(codecNames(), ", "))
		}
		c.codec = cc.Name()
	}
	intParam := func(name string, dst *int) error {
		if !q.Has(name) {
			return nil
		}
		n, err := strconv.Atoi(q.Get(name))
		if err != nil || n < 1 || n > MaxWorkers {
			return bad("%s must be an integer from 1 to %d, got %q", name, MaxWorkers, q.Get(name))
		}
		*dst = n
		return nil
	}
	if err := intParam("workers", &c.workers); err != nil {
		return nil, err
	}
	if err := intParam("prefetch", &c.prefetch); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"durable", &c.durable}, {"quorum", &c.quorum}, {"exclusive", &c.exclusive}, {"auto_delete", &c.autoDelete}, {"shuffle", &c.shuffle}} {
		name, dst := f.name, f.dst
		if !q.Has(name) {
			continue
		}
		b, err := strconv.ParseBool(q.Get(name))
		if err != nil {
			return nil, bad("%s must be true or false, got %q", name, q.Get(name))
		}
		*dst = b
	}
	if c.quorum {
		if q.Has("durable") && !c.durable {
			return nil, bad("a quorum queue is always durable; drop durable=false")
		}
		if c.exclusive || c.autoDelete {
			return nil, bad("a quorum queue cannot be exclusive or auto_delete")
		}
		c.durable = true
	}
	c.deadLetter = q.Get("dead_letter")
	c.deadLetterQueue = q.Get("dead_letter_queue")
	if c.deadLetter != "" && c.deadLetterQueue != "" {
		return nil, bad("give dead_letter (an exchange you bind queues to) or dead_letter_queue (a queue the server declares), not both")
	}
	if len(c.deadLetter) > 255 || len(c.deadLetterQueue) > 255 {
		return nil, bad("dead-letter exchange or queue name longer than 255 bytes")
	}
	if c.deadLetterQueue != "" && c.deadLetterQueue == c.queue {
		return nil, bad("dead_letter_queue must differ from the request queue")
	}
	if q.Has("timeout") {
		d, err := time.ParseDuration(q.Get("timeout"))
		if err != nil || d <= 0 {
			return nil, bad("timeout must be a positive duration such as 5s, got %q", q.Get("timeout"))
		}
		c.timeout = d
	}

	b := *u
	b.Scheme = scheme
	b.RawQuery = broker.Encode()
	b.Fragment, b.RawFragment = "", ""
	for _, h := range hosts {
		b.Host = h
		c.brokerURLs = append(c.brokerURLs, b.String())
	}

	a := b
	a.Host = u.Host
	a.User = nil
	aq := url.Values{}
	if c.queue != DefaultQueue {
		aq.Set("queue", c.queue)
	}
	if c.codec != "xml" {
		aq.Set("codec", c.codec)
	}
	if !c.shuffle {
		aq.Set("shuffle", "false")
	}
	if c.durable {
		// Clients of a durable (or quorum) queue publish persistent
		// requests, so a broker restart keeps them.
		aq.Set("durable", "true")
	}
	for _, k := range brokerParams {
		if k != "auth_mechanism" && broker.Has(k) {
			aq[k] = broker[k]
		}
	}
	a.RawQuery = aq.Encode()
	if a.Path == "" {
		a.Path = "/"
	}
	c.addr = a.String()
	return c, nil
}

// hostList splits the authority's host list (one host, or several
// separated by commas) and gives each a port (def when it has none).
func hostList(hosts, def string) ([]string, error) {
	if hosts == "" {
		return []string{net.JoinHostPort("localhost", def)}, nil // amqp091's default host
	}
	var out []string
	for _, h := range strings.Split(hosts, ",") {
		host, port := h, def
		if hp, p, err := net.SplitHostPort(h); err == nil {
			host, port = hp, p
		} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			host = h[1 : len(h)-1] // an IPv6 address without a port
		}
		if host == "" {
			return nil, fmt.Errorf("empty host in %q", hosts)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("bad port %q for host %q", port, host)
		}
		out = append(out, net.JoinHostPort(host, port))
	}
	return out, nil
}

// WithHosts returns a copy of u whose authority names the brokers hosts
// (each "host" or "host:port"), the nodes of a cluster: the Go form of a
// URL's comma-separated host list. Credentials, vhost and parameters are
// u's. An empty list or a bad host is an error.
func WithHosts(u *url.URL, hosts ...string) (*url.URL, error) {
	if len(hosts) == 0 {
		return nil, fmt.Errorf("rpcwire: amqp: WithHosts: no hosts")
	}
	for _, h := range hosts {
		if h == "" || strings.ContainsAny(h, ",/?#@") {
			return nil, fmt.Errorf("rpcwire: amqp: WithHosts: bad host %q", h)
		}
	}
	def := "5672"
	if strings.EqualFold(u.Scheme, "amqps") {
		def = "5671"
	}
	if _, err := hostList(strings.Join(hosts, ","), def); err != nil {
		return nil, fmt.Errorf("rpcwire: amqp: WithHosts: %w", err)
	}
	c := *u
	c.Host = strings.Join(hosts, ",")
	return &c, nil
}
