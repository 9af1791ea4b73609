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

// multicall runs each call of a system.multicall request in order. A bad
// entry gets a fault of its own, as in Python, and the others still run.
func (r *Registry) multicall(ctx context.Context, calls []any) []any {
	out := make([]any, len(calls))
	for i, c := range calls {
		result, err := r.oneOfMulticall(ctx, c)
		if err != nil {
			f := transport.ToRemote(err)
			out[i] = map[string]any{"faultCode": int64(f.Code), "faultString": f.Message}
			continue
		}
		out[i] = []any{result}
	}
	return out
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
