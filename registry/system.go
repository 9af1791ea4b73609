package registry

import (
	"context"
	"fmt"

	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/wire"
)

// Names of the introspection methods.
const (
	ListMethods     = "system.listMethods"
	MethodSignature = "system.methodSignature"
	MethodHelp      = "system.methodHelp"
	Multicall       = "system.multicall"
)

// registerSystem adds the introspection and multicall methods.
func (r *Registry) registerSystem() {
	r.MustRegister(ListMethods, func() []string { return r.Methods() },
		WithHelp("Returns the names of the methods this server serves."))
	r.MustRegister(MethodSignature, func(name string) ([]any, error) {
		m := r.lookup(name)
		if m == nil {
			return nil, fmt.Errorf("%w: %q", transport.ErrMethodNotFound, name)
		}
		return []any{m.signature()}, nil
	}, WithHelp("Returns the signatures of a method: a list of [result type, parameter types...]."))
	r.MustRegister(MethodHelp, func(name string) (string, error) {
		m := r.lookup(name)
		if m == nil {
			return "", fmt.Errorf("%w: %q", transport.ErrMethodNotFound, name)
		}
		return m.help, nil
	}, WithHelp("Returns the documentation of a method."))
	r.MustRegister(Multicall, r.multicall,
		WithHelp("Runs several calls in one request: takes a list of {methodName, params} structs and returns, "+
			"per call, [result] or {faultCode, faultString}."))
}

// DefaultMaxMulticall is how many calls one system.multicall may hold
// unless WithMaxMulticall says otherwise. It bounds what a small request
// can make a server do: each call runs in turn inside one call slot and
// under one deadline, and clients batch tens or hundreds of calls, not
// thousands.
const DefaultMaxMulticall = 1000

// multicall runs each call of a system.multicall request in order. A bad
// entry gets a fault of its own, as in Python, and the others still run.
// A multicall of more calls than the registry's limit is refused before
// any runs, and one whose results already pass the server's reply size
// limit (transport.ReplyLimit) stops there: both with an error wrapping
// transport.ErrTooLarge, so that a small request cannot make the server
// build a reply it will refuse anyway.
func (r *Registry) multicall(ctx context.Context, calls []any) ([]any, error) {
	if len(calls) > r.maxMulticall {
		return nil, fmt.Errorf("%w: system.multicall of %d calls exceeds the limit of %d (registry.WithMaxMulticall)",
			transport.ErrTooLarge, len(calls), r.maxMulticall)
	}
	limit := transport.ReplyLimit(ctx)
	var size int64
	out := make([]any, len(calls))
	for i, c := range calls {
		var entry any
		result, err := r.oneOfMulticall(ctx, c)
		if err == nil {
			// Wire values now, to measure them; the codec would convert
			// them anyway.
			if result, err = wire.Convert(result); err != nil {
				err = fmt.Errorf("%w: the result of call %d cannot travel: %w", transport.ErrInternal, i, err)
			}
		}
		if err != nil {
			f := transport.ToRemote(err)
			entry = map[string]any{"faultCode": int64(f.Code), "faultString": f.Message}
		} else {
			entry = []any{result}
		}
		if size += wire.MinSize(entry, max(limit-size, 1)); size > limit {
			return nil, fmt.Errorf("%w: the results of the first %d of %d calls of system.multicall exceed the reply limit of %d bytes",
				transport.ErrTooLarge, i+1, len(calls), limit)
		}
		out[i] = entry
	}
	return out, nil
}

func (r *Registry) oneOfMulticall(ctx context.Context, entry any) (any, error) {
	c, ok := entry.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: multicall entry must be a struct {methodName, params}, got %s",
			transport.ErrInvalidParams, wire.Describe(entry))
	}
	name, ok := c["methodName"].(string)
	if !ok {
		return nil, fmt.Errorf("%w: multicall entry needs a string methodName", transport.ErrInvalidParams)
	}
	if name == Multicall {
		return nil, fmt.Errorf("%w: system.multicall cannot be nested", transport.ErrInvalidParams)
	}
	var params []any
	switch p := c["params"].(type) {
	case nil:
	case []any:
		params = p
	default:
		return nil, fmt.Errorf("%w: multicall params of %q must be an array", transport.ErrInvalidParams, name)
	}
	return r.Dispatch(ctx, name, params)
}
