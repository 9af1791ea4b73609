// Package registry holds the functions a server exposes. It turns a call
// (method name plus wire values) into a call of a plain Go function:
// signatures are checked and reflected on once, at Register; each call
// converts its arguments to the parameter types, runs the function behind
// the registry's middleware, and turns panics into faults.
//
// A Registry knows nothing of wires; every transport serves one through the
// transport.Dispatcher interface.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// Registry maps method names to Go functions. It is safe for concurrent
// use; methods may be registered while calls are being served. The zero
// Registry is usable: it has no middleware, no introspection methods and a
// silent logger.
type Registry struct {
	methods atomic.Pointer[map[string]*method]
	mu      sync.Mutex        // serialises writers of methods
	handler transport.Handler // the middleware chain; nil without middleware
	logger  *slog.Logger
	// maxMulticall bounds the calls of one system.multicall.
	maxMulticall int
}

// Option configures a Registry.
type Option func(*config)

type config struct {
	middleware    []transport.Interceptor
	introspection bool
	logger        *slog.Logger
	maxMulticall  int
}

// WithMiddleware adds middleware around every call the registry runs,
// the first outermost: interceptors of the same shape as a client's or
// server's (transport.WithInterceptors), for logging, metrics, auth or
// limits written once. Where they run differs: server interceptors wrap
// each call a server decodes, and see a system.multicall as one call;
// registry middleware wraps each call Dispatch runs, so it sees the
// multicall and then each of its entries. The Request it gets has Method,
// Args and Transport (from the Peer) set; the caller's metadata and Peer
// are in ctx.
func WithMiddleware(mw ...transport.Interceptor) Option {
	return func(c *config) { c.middleware = append(c.middleware, mw...) }
}

// WithoutIntrospection leaves out the system.* methods (listMethods,
// methodSignature, methodHelp, multicall) that New registers by default.
func WithoutIntrospection() Option {
	return func(c *config) { c.introspection = false }
}

// WithMaxMulticall bounds how many calls one system.multicall may hold
// (DefaultMaxMulticall, 1000, by default); a larger one is refused with
// a fault matching transport.ErrTooLarge before any of its calls run. A
// value below 1 keeps the default.
func WithMaxMulticall(n int) Option {
	return func(c *config) { c.maxMulticall = n }
}

// WithLogger sets where panics in registered functions are reported, with
// their stack. The default is silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// New returns an empty Registry. Unless WithoutIntrospection is given it
// serves system.listMethods, system.methodSignature, system.methodHelp and
// system.multicall, as Python's SimpleXMLRPCServer does with
// register_introspection_functions and register_multicall_functions.
func New(opts ...Option) *Registry {
	c := config{introspection: true}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	r := &Registry{logger: c.logger, maxMulticall: c.maxMulticall}
	if r.maxMulticall < 1 {
		r.maxMulticall = DefaultMaxMulticall
	}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	empty := map[string]*method{}
	r.methods.Store(&empty)
	if slices.ContainsFunc(c.middleware, func(mw transport.Interceptor) bool { return mw != nil }) {
		r.handler = transport.Chain(r.dispatch, c.middleware...)
	}
	if c.introspection {
		r.registerSystem()
	}
	return r
}

// MethodOption describes a registered method.
type MethodOption func(*method)

// WithHelp sets the text system.methodHelp returns for the method.
func WithHelp(text string) MethodOption {
	return func(m *method) { m.help = text }
}

// method is a registered function with everything calls need, worked out
// once at Register.
type method struct {
	name     string
	fn       reflect.Value
	withCtx  bool           // first parameter is context.Context
	params   []reflect.Type // excluding the context
	variadic bool
	// fixed is a struct with one field per non-variadic parameter, so a
	// call allocates its arguments at once rather than one by one.
	fixed    reflect.Type
	hasValue bool // returns a value besides an optional error
	hasErr   bool // last result is error
	help     string
}

var (
	typeContext = reflect.TypeFor[context.Context]()
	typeError   = reflect.TypeFor[error]()
	typeTime    = reflect.TypeFor[time.Time]()
	typeBytes   = reflect.TypeFor[[]byte]()
)

// Register adds fn under name. fn must be a function whose parameters
// (after an optional leading context.Context) and result can travel on the
// wire, returning nothing, a value, an error, or a value and an error.
// Register rejects anything else, an empty or malformed name, and a name
// already taken.
func (r *Registry) Register(name string, fn any, opts ...MethodOption) error {
	m, err := newMethod(name, fn)
	if err != nil {
		return err
	}
	for _, o := range opts {
		if o != nil {
			o(m)
		}
	}
	return r.add(m)
}

// MustRegister is Register that panics on error, for static setup code.
func (r *Registry) MustRegister(name string, fn any, opts ...MethodOption) {
	if err := r.Register(name, fn, opts...); err != nil {
		panic(err)
	}
}

func (r *Registry) add(m *method) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.table()
	if _, dup := old[m.name]; dup {
		return fmt.Errorf("registry: method %q is already registered", m.name)
	}
	next := make(map[string]*method, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[m.name] = m
	r.methods.Store(&next)
	return nil
}

func newMethod(name string, fn any) (*method, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func {
		return nil, fmt.Errorf("registry: %s: want a function, got %T", name, fn)
	}
	if v.IsNil() {
		return nil, fmt.Errorf("registry: %s: want a function, got a nil %T", name, fn)
	}
	t := v.Type()
	m := &method{name: name, fn: v, variadic: t.IsVariadic()}
	for i := range t.NumIn() {
		p := t.In(i)
		if i == 0 && p == typeContext {
			m.withCtx = true
			continue
		}
		if p.Implements(typeContext) || p == typeContext {
			return nil, fmt.Errorf("registry: %s: context.Context must be the first parameter", name)
		}
		check := p
		if m.variadic && i == t.NumIn()-1 {
			check = p.Elem()
		}
		if err := wire.Check(check); err != nil {
			return nil, fmt.Errorf("registry: %s: parameter %d: %w", name, len(m.params)+1, err)
		}
		m.params = append(m.params, p)
	}
	if nf := m.numFixed(); nf > 0 {
		fields := make([]reflect.StructField, nf)
		for i, p := range m.params[:nf] {
			fields[i] = reflect.StructField{Name: "A" + strconv.Itoa(i), Type: p}
		}
		m.fixed = reflect.StructOf(fields)
	}
	switch t.NumOut() {
	case 0:
	case 1:
		if t.Out(0) == typeError {
			m.hasErr = true
		} else {
			m.hasValue = true
		}
	case 2:
		if t.Out(1) != typeError {
			return nil, fmt.Errorf("registry: %s: second result must be error, got %s", name, t.Out(1))
		}
		m.hasValue, m.hasErr = true, true
	default:
		return nil, fmt.Errorf("registry: %s: want at most 2 results (value, error), got %d", name, t.NumOut())
	}
	if m.hasValue {
		if err := wire.Check(t.Out(0)); err != nil {
			return nil, fmt.Errorf("registry: %s: result: %w", name, err)
		}
	}
	return m, nil
}

// checkName accepts the characters the XML-RPC spec allows in method names.
func checkName(name string) error {
	if name == "" {
		return errors.New("registry: empty method name")
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '.' || c == ':' || c == '/' || c == '-'
		if !ok {
			return fmt.Errorf("registry: method name %q: character %q not allowed (use letters, digits, _ . : / -)", name, c)
		}
	}
	return nil
}

// table returns the current method table; nil (empty) for the zero Registry.
func (r *Registry) table() map[string]*method {
	if p := r.methods.Load(); p != nil {
		return *p
	}
	return nil
}

// Methods lists the registered method names in sorted order.
func (r *Registry) Methods() []string {
	ms := r.table()
	names := make([]string, 0, len(ms))
	for name := range ms {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Dispatch runs method with args through the middleware and returns its
// result. args are wire values, converted to the parameter types as wire.Assign
// does. Errors wrap transport.ErrMethodNotFound, ErrInvalidParams (naming
// the argument that does not fit) or ErrInternal (for a panic), or are
// what the function returned. A call whose ctx is already done does not
// run. It implements transport.Dispatcher.
func (r *Registry) Dispatch(ctx context.Context, method string, args []any) (result any, err error) {
	if err := transport.ContextError(ctx, method); err != nil {
		return nil, err
	}
	// Panics in registered functions are caught in call, so middleware
	// sees them as errors; this catches panics in middleware itself.
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, r.panicked(method, p)
		}
	}()
	if r.handler == nil { // no middleware: no Request to build
		return r.run(ctx, method, args)
	}
	req := &transport.Request{Method: method, Args: args}
	if p, ok := transport.PeerFromContext(ctx); ok {
		req.Transport = p.Transport
	}
	return r.handler(ctx, req)
}

// dispatch is the innermost Handler, under the middleware.
func (r *Registry) dispatch(ctx context.Context, req *transport.Request) (any, error) {
	return r.run(ctx, req.Method, req.Args)
}

// run looks up the method and calls it.
func (r *Registry) run(ctx context.Context, method string, args []any) (any, error) {
	m := r.table()[method]
	if m == nil {
		return nil, fmt.Errorf("%w: %q", transport.ErrMethodNotFound, method)
	}
	return r.call(ctx, m, args)
}

// panicked logs a recovered panic with its stack and returns the error
// the caller gets.
func (r *Registry) panicked(method string, p any) error {
	logger := r.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if logger.Enabled(context.Background(), slog.LevelError) {
		logger.Error("rpcwire: registered function panicked", "method", method, "panic", p, "stack", string(debug.Stack()))
	}
	return fmt.Errorf("%w: %s panicked: %v", transport.ErrInternal, method, p)
}

// call converts args to m's parameter types and runs m. A panic, in the
// function or in converting its arguments, becomes an ErrInternal error.
func (r *Registry) call(ctx context.Context, m *method, args []any) (result any, err error) {
	nf := m.numFixed()
	if len(args) < nf || (!m.variadic && len(args) > nf) {
		atLeast := ""
		if m.variadic {
			atLeast = "at least "
		}
		return nil, fmt.Errorf("%w: %s takes %s%d argument%s, got %d", transport.ErrInvalidParams,
			m.name, atLeast, nf, plural(nf), len(args))
	}
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, r.panicked(m.name, p)
		}
	}()
	var buf [8]reflect.Value // Call does not keep in: common calls need no heap slice
	in := buf[:0]
	if m.withCtx {
		in = append(in, reflect.ValueOf(ctx))
	}
	var fixed reflect.Value
	if nf > 0 {
		fixed = reflect.New(m.fixed).Elem()
	}
	for i := range nf {
		if err := assignArg(fixed.Field(i), args[i]); err != nil {
			return nil, argError(m.name, i, err)
		}
		in = append(in, fixed.Field(i))
	}
	var out []reflect.Value
	if m.variadic {
		rest := reflect.MakeSlice(m.params[nf], len(args)-nf, len(args)-nf)
		for i := range rest.Len() {
			if err := assignArg(rest.Index(i), args[nf+i]); err != nil {
				return nil, argError(m.name, nf+i, err)
			}
		}
		out = m.fn.CallSlice(append(in, rest))
	} else {
		out = m.fn.Call(in)
	}
	if m.hasErr {
		if e := out[len(out)-1]; !e.IsNil() {
			return nil, e.Interface().(error)
		}
	}
	if m.hasValue {
		return out[0].Interface(), nil
	}
	return nil, nil
}

// numFixed is the number of parameters before a variadic one, excluding
// the context.
func (m *method) numFixed() int {
	if m.variadic {
		return len(m.params) - 1
	}
	return len(m.params)
}

// argError is the error for argument i (from 0) that does not fit.
func argError(method string, i int, err error) error {
	return fmt.Errorf("%w: %s: argument %d: %w", transport.ErrInvalidParams, method, i+1, err)
}

// assignArg is assign with fast paths for the common parameter types.
func assignArg(dst reflect.Value, v any) error {
	switch dst.Kind() {
	case reflect.Int, reflect.Int64:
		if n, ok := v.(int64); ok && !dst.OverflowInt(n) {
			dst.SetInt(n)
			return nil
		}
	case reflect.String:
		if s, ok := v.(string); ok {
			dst.SetString(s)
			return nil
		}
	case reflect.Float64:
		if f, ok := v.(float64); ok {
			dst.SetFloat(f)
			return nil
		}
	case reflect.Bool:
		if b, ok := v.(bool); ok {
			dst.SetBool(b)
			return nil
		}
	}
	return wire.AssignValue(dst, v)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// lookup returns the named method or nil.
func (r *Registry) lookup(name string) *method {
	return r.table()[name]
}

// signature lists the method's XML-RPC type names: result first, then
// parameters, as system.methodSignature reports them.
func (m *method) signature() []any {
	t := m.fn.Type()
	sig := []any{"nil"}
	if m.hasValue {
		sig[0] = typeName(t.Out(0))
	}
	for i, p := range m.params {
		if m.variadic && i == len(m.params)-1 {
			sig = append(sig, typeName(p.Elem())+"...")
			continue
		}
		sig = append(sig, typeName(p))
	}
	return sig
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == typeTime:
		return "dateTime.iso8601"
	case t == typeBytes || (t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8):
		return "base64"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "double"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "struct"
	case reflect.Interface:
		return "any"
	}
	return strings.ToLower(t.Kind().String())
}
