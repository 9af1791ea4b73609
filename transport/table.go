package transport

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// DialFunc opens a Client for u.
type DialFunc func(ctx context.Context, u *url.URL, opts ...ClientOption) (Client, error)

// ListenFunc starts a Server for u that serves d.
type ListenFunc func(ctx context.Context, u *url.URL, d Dispatcher, opts ...ServerOption) (Server, error)

// Scheme is one entry of a Table: how to dial and how to listen.
type Scheme struct {
	Dial   DialFunc
	Listen ListenFunc
}

// Table picks a transport by URL scheme. It is built once with NewTable
// and not changed afterwards, so it is safe for concurrent use.
type Table struct {
	schemes map[string]Scheme
}

// NewTable returns a Table holding the given schemes (lower-case names
// without "://", e.g. "http").
func NewTable(schemes map[string]Scheme) *Table {
	t := &Table{schemes: make(map[string]Scheme, len(schemes))}
	for name, s := range schemes {
		t.schemes[strings.ToLower(name)] = s
	}
	return t
}

// Schemes lists the table's scheme names in sorted order.
func (t *Table) Schemes() []string {
	names := make([]string, 0, len(t.schemes))
	for name := range t.schemes {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Dial opens a Client for rawURL with the transport its scheme names.
func (t *Table) Dial(ctx context.Context, rawURL string, opts ...ClientOption) (Client, error) {
	u, s, err := t.lookup(rawURL)
	if err != nil {
		return nil, err
	}
	if s.Dial == nil {
		return nil, fmt.Errorf("%w: %q cannot dial", ErrUnknownScheme, u.Scheme)
	}
	return s.Dial(ctx, u, opts...)
}

// Listen starts a Server for rawURL, serving d, with the transport its
// scheme names.
func (t *Table) Listen(ctx context.Context, rawURL string, d Dispatcher, opts ...ServerOption) (Server, error) {
	u, s, err := t.lookup(rawURL)
	if err != nil {
		return nil, err
	}
	if s.Listen == nil {
		return nil, fmt.Errorf("%w: %q cannot listen", ErrUnknownScheme, u.Scheme)
	}
	if d == nil {
		return nil, fmt.Errorf("rpcwire: listen %s: nil dispatcher", Redact(rawURL))
	}
	return s.Listen(ctx, u, d, opts...)
}

func (t *Table) lookup(rawURL string) (*url.URL, Scheme, error) {
	u, err := ParseURL(rawURL)
	if err != nil {
		return nil, Scheme{}, fmt.Errorf("%w (want scheme://host:port/path with a scheme of %s)", err, strings.Join(t.Schemes(), ", "))
	}
	if u.Scheme == "" {
		return nil, Scheme{}, fmt.Errorf("%w: %q has no scheme (want one of %s, e.g. http://127.0.0.1:8080/)",
			ErrUnknownScheme, Redact(rawURL), strings.Join(t.Schemes(), ", "))
	}
	s, ok := t.schemes[strings.ToLower(u.Scheme)]
	if !ok {
		return nil, Scheme{}, fmt.Errorf("%w %q in %s (known schemes: %s)",
			ErrUnknownScheme, u.Scheme, Redact(rawURL), strings.Join(t.Schemes(), ", "))
	}
	return u, s, nil
}

// unquote replaces every double-quoted part of msg with "…".
func unquote(msg string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(msg, '"')
		if i < 0 {
			break
		}
		j := strings.IndexByte(msg[i+1:], '"')
		if j < 0 {
			break
		}
		b.WriteString(msg[:i])
		b.WriteString(`"…"`)
		msg = msg[i+1+j+1:]
	}
	b.WriteString(msg)
	return b.String()
}
