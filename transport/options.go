package transport

import (
	"crypto/tls"
	"log/slog"
	"time"
)

// Default limits. Each transport applies them unless an Option changes them.
const (
	// DefaultMaxMessageSize bounds a request or reply body.
	DefaultMaxMessageSize = 4 << 20
	// DefaultMaxInFlight bounds the calls one server runs at once; calls
	// beyond it get a busy fault (ErrBusy) instead of queuing without limit.
	DefaultMaxInFlight = 1024
)

// Options are the settings shared by all transports. Transport-specific
// settings travel in the URL (for example ?prefetch=16 for AMQP) or in the
// transport package's own constructors.
type Options struct {
	// Logger receives the transport's events. Nil means silent.
	Logger *slog.Logger
	// TLSConfig is used for https:// and amqps://. Nil means the system
	// defaults (clients) or no TLS (servers).
	TLSConfig *tls.Config
	// MaxMessageSize bounds request and reply bodies, in bytes.
	MaxMessageSize int64
	// MaxInFlight bounds the calls a server runs at once.
	MaxInFlight int
	// Timeout bounds a call whose context has no deadline. Zero means no
	// bound beyond the context.
	Timeout time.Duration
}

// Option changes Options.
type Option func(*Options)

// WithLogger sets the logger a transport reports its events to.
func WithLogger(l *slog.Logger) Option { return func(o *Options) { o.Logger = l } }

// WithTLSConfig sets the TLS configuration for https:// and amqps://.
func WithTLSConfig(c *tls.Config) Option { return func(o *Options) { o.TLSConfig = c } }

// WithMaxMessageSize bounds request and reply bodies to n bytes.
func WithMaxMessageSize(n int64) Option { return func(o *Options) { o.MaxMessageSize = n } }

// WithMaxInFlight bounds the calls a server runs at once to n.
func WithMaxInFlight(n int) Option { return func(o *Options) { o.MaxInFlight = n } }

// WithTimeout bounds calls whose context carries no deadline.
func WithTimeout(d time.Duration) Option { return func(o *Options) { o.Timeout = d } }

// Apply returns the Options that opts produce, starting from the defaults.
func Apply(opts ...Option) Options {
	o := Options{MaxMessageSize: DefaultMaxMessageSize, MaxInFlight: DefaultMaxInFlight}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
