package transport

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Default limits. Each transport applies them where an option leaves a
// setting unset (zero).
const (
	// DefaultMaxMessageSize bounds a request or reply body.
	DefaultMaxMessageSize = 4 << 20
	// DefaultMaxInFlight bounds the calls one HTTP or in-process server
	// runs at once; calls beyond it get a busy fault (ErrBusy). An AMQP
	// server's default is lower (see the amqp package): there the broker
	// holds the backlog, so extra calls wait rather than fail.
	DefaultMaxInFlight = 1024
	// DefaultBytesInFlight is how many requests of the largest size a
	// server holds at once by default (see WithMaxBytesInFlight): 8, or 32
	// MiB with the default message size limit.
	DefaultBytesInFlight = 8
)

// ErrUnsupported means a transport was given an option it cannot honour
// (for example a TLS configuration for a plain http:// or mem:// URL):
// Dial and Listen refuse it rather than ignore it.
var ErrUnsupported = errors.New("rpcwire: option not supported by this transport")

// ClientOptions are the settings every transport's client understands.
// A zero field is unset: the transport uses its default.
type ClientOptions struct {
	// Logger receives the client's events. Nil means silent.
	Logger *slog.Logger
	// TLSConfig configures https:// and amqps:// connections. Nil means
	// the system's roots.
	TLSConfig *tls.Config
	// MaxMessageSize bounds request and reply bodies, in bytes
	// (DefaultMaxMessageSize when zero).
	MaxMessageSize int64
	// Timeout bounds a call or one-way message whose context has no
	// deadline; zero means no bound beyond the context.
	Timeout time.Duration
	// Codecs replace the transport's built-in codecs of their names.
	Codecs []Codec
	// Interceptors wrap every call, the first outermost (see
	// WithInterceptors).
	Interceptors []Interceptor
}

// ServerOptions are the settings every transport's server understands.
// A zero field is unset: the transport uses its default.
type ServerOptions struct {
	// Logger receives the server's events. Nil means silent.
	Logger *slog.Logger
	// TLSConfig holds the certificate of an https:// server, or the
	// trusted roots for an amqps:// broker.
	TLSConfig *tls.Config
	// MaxMessageSize bounds request and reply bodies, in bytes
	// (DefaultMaxMessageSize when zero).
	MaxMessageSize int64
	// MaxInFlight bounds the calls the server runs at once. What happens
	// to more depends on the transport: HTTP and mem answer them with a
	// busy fault, AMQP leaves them in the broker's queue.
	MaxInFlight int
	// MaxBytesInFlight bounds the bytes of the requests an HTTP or AMQP
	// server holds at once, from reading a body to sending its reply
	// (DefaultBytesInFlight times MaxSize when zero, and never less than
	// MaxSize).
	MaxBytesInFlight int64
	// CallTimeout bounds how long one call may run on the server; zero
	// means only the caller's deadline bounds it.
	CallTimeout time.Duration
	// Codecs replace the transport's built-in codecs of their names.
	Codecs []Codec
	// Interceptors wrap every call the server runs, the first outermost
	// (see WithInterceptors).
	Interceptors []Interceptor
}

// ClientOption configures a Client; it is given to Dial.
type ClientOption interface {
	applyToClient(*ClientOptions) error
}

// ServerOption configures a Server; it is given to Listen.
type ServerOption interface {
	applyToServer(*ServerOptions) error
}

// Option configures both clients and servers: it may be given to Dial and
// to Listen.
type Option interface {
	ClientOption
	ServerOption
}

// NewClientOptions applies opts to zero ClientOptions. A bad option (a
// negative size, say) is an error; nil options are skipped.
func NewClientOptions(opts ...ClientOption) (ClientOptions, error) {
	var o ClientOptions
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.applyToClient(&o); err != nil {
			return ClientOptions{}, err
		}
	}
	return o, nil
}

// NewServerOptions applies opts to zero ServerOptions. A bad option (a
// negative size, say) is an error; nil options are skipped.
func NewServerOptions(opts ...ServerOption) (ServerOptions, error) {
	var o ServerOptions
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.applyToServer(&o); err != nil {
			return ServerOptions{}, err
		}
	}
	return o, nil
}

// Log returns the client's logger, or one that discards everything.
func (o *ClientOptions) Log() *slog.Logger { return orDiscard(o.Logger) }

// Log returns the server's logger, or one that discards everything.
func (o *ServerOptions) Log() *slog.Logger { return orDiscard(o.Logger) }

// MaxSize returns MaxMessageSize, or DefaultMaxMessageSize when unset.
func (o *ClientOptions) MaxSize() int64 { return orDefault(o.MaxMessageSize, DefaultMaxMessageSize) }

// MaxSize returns MaxMessageSize, or DefaultMaxMessageSize when unset.
func (o *ServerOptions) MaxSize() int64 { return orDefault(o.MaxMessageSize, DefaultMaxMessageSize) }

// MaxBytes returns MaxBytesInFlight, or DefaultBytesInFlight times MaxSize
// when unset; never less than MaxSize, so that a request of the largest
// size can always be served.
func (o *ServerOptions) MaxBytes() int64 {
	return max(orDefault(o.MaxBytesInFlight, DefaultBytesInFlight*o.MaxSize()), o.MaxSize())
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func orDefault[T int | int64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// both is an Option built from one function per side.
type both struct {
	client func(*ClientOptions) error
	server func(*ServerOptions) error
}

func (b both) applyToClient(o *ClientOptions) error { return b.client(o) }
func (b both) applyToServer(o *ServerOptions) error { return b.server(o) }

type clientOnly func(*ClientOptions) error

func (f clientOnly) applyToClient(o *ClientOptions) error { return f(o) }

type serverOnly func(*ServerOptions) error

func (f serverOnly) applyToServer(o *ServerOptions) error { return f(o) }

// WithLogger sets the logger a client or server reports its events to
// (reconnects, refused requests; never one line per call).
func WithLogger(l *slog.Logger) Option {
	return both{
		client: func(o *ClientOptions) error { o.Logger = l; return nil },
		server: func(o *ServerOptions) error { o.Logger = l; return nil },
	}
}

// WithTLSConfig sets the TLS configuration for https:// and amqps://. A
// transport or scheme without TLS (http://, amqp://, mem://) refuses it
// with ErrUnsupported.
func WithTLSConfig(c *tls.Config) Option {
	return both{
		client: func(o *ClientOptions) error { o.TLSConfig = c; return nil },
		server: func(o *ServerOptions) error { o.TLSConfig = c; return nil },
	}
}

// WithMaxMessageSize bounds request and reply bodies to n bytes, n > 0.
// A client refuses to send a larger request and to read a larger reply; a
// server refuses a larger request and replaces a larger reply with a
// fault. Either way the caller gets ErrTooLarge.
func WithMaxMessageSize(n int64) Option {
	check := func() error {
		if n <= 0 {
			return fmt.Errorf("rpcwire: WithMaxMessageSize(%d): the size must be positive", n)
		}
		return nil
	}
	return both{
		client: func(o *ClientOptions) error { o.MaxMessageSize = n; return check() },
		server: func(o *ServerOptions) error { o.MaxMessageSize = n; return check() },
	}
}

// WithTimeout bounds each call and one-way message of a client whose
// context carries no deadline, d > 0. Calls with a deadline keep it.
func WithTimeout(d time.Duration) ClientOption {
	return clientOnly(func(o *ClientOptions) error {
		if d <= 0 {
			return fmt.Errorf("rpcwire: WithTimeout(%v): the timeout must be positive", d)
		}
		o.Timeout = d
		return nil
	})
}

// WithMaxInFlight bounds the calls a server runs at once to n > 0, on
// every transport: an HTTP or in-process server answers more with a busy
// fault (ErrBusy), an AMQP server runs n workers and leaves the rest
// waiting in the broker.
func WithMaxInFlight(n int) ServerOption {
	return serverOnly(func(o *ServerOptions) error {
		if n <= 0 {
			return fmt.Errorf("rpcwire: WithMaxInFlight(%d): the limit must be positive", n)
		}
		o.MaxInFlight = n
		return nil
	})
}

// WithMaxBytesInFlight bounds the bytes of the requests a server holds at
// once, n > 0, counted from reading a body to sending its reply (by
// default 8 times the message size limit, 32 MiB; never less than that
// limit). Decoded, a request takes a few times its size in memory (a body
// of many small structs, such as a hostile system.multicall, up to four
// times), so this is what keeps a server's memory bounded when many large
// requests come at once. A request beyond it waits: over HTTP before its
// body is read (and, after 10 seconds, gets a busy fault, ErrBusy), over
// AMQP in its worker while the broker keeps the rest. The in-process
// transport (mem) has no bodies to bound.
func WithMaxBytesInFlight(n int64) ServerOption {
	return serverOnly(func(o *ServerOptions) error {
		if n <= 0 {
			return fmt.Errorf("rpcwire: WithMaxBytesInFlight(%d): the limit must be positive", n)
		}
		o.MaxBytesInFlight = n
		return nil
	})
}

// WithCallTimeout bounds how long a server lets one call run, d > 0: the
// function's context ends after d (or at the caller's deadline, if that
// comes first) and the caller gets ErrTimeout.
func WithCallTimeout(d time.Duration) ServerOption {
	return serverOnly(func(o *ServerOptions) error {
		if d <= 0 {
			return fmt.Errorf("rpcwire: WithCallTimeout(%v): the timeout must be positive", d)
		}
		o.CallTimeout = d
		return nil
	})
}

// WithCodec makes a client or server use c for the messages of its name
// (c.Name()) in place of the transport's built-in codec of that name: for
// example an XML-RPC codec with other decoding limits,
// transport.BodyOnly(xmlcodec.Codec{MaxDepth: 20}). A transport that has
// no codec of that name refuses it with ErrUnsupported.
func WithCodec(c Codec) Option {
	add := func(list *[]Codec) error {
		if c == nil {
			return errors.New("rpcwire: WithCodec(nil)")
		}
		*list = append(*list, c)
		return nil
	}
	return both{
		client: func(o *ClientOptions) error { return add(&o.Codecs) },
		server: func(o *ServerOptions) error { return add(&o.Codecs) },
	}
}

// PickCodec returns the codec of def's name among given (the last one, if
// several), else def.
func PickCodec(given []Codec, def Codec) Codec {
	for i := len(given) - 1; i >= 0; i-- {
		if given[i].Name() == def.Name() {
			return given[i]
		}
	}
	return def
}

// CheckCodecs returns an error wrapping ErrUnsupported when a codec in
// given has a name that is none of names, the codecs a transport has;
// what names the transport for the message.
func CheckCodecs(given []Codec, what string, names ...string) error {
	for _, c := range given {
		if !slices.Contains(names, c.Name()) {
			return fmt.Errorf("%w: %s has no codec named %q to replace (it has %s)", ErrUnsupported, what, c.Name(), strings.Join(names, ", "))
		}
	}
	return nil
}

// NoTLS returns an error wrapping ErrUnsupported when a TLS configuration
// was given for a URL that does not use TLS; transports call it from Dial
// and Listen.
func NoTLS(c *tls.Config, url string) error {
	if c == nil {
		return nil
	}
	return fmt.Errorf("%w: a TLS configuration was given for %s, which does not use TLS (use https:// or amqps://)", ErrUnsupported, url)
}
