package transport

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors shared by every transport. Test for them with errors.Is;
// transports wrap them with detail and keep the original cause in the chain.
var (
	// ErrNoServer means no server is there to take the call: nothing listens
	// on the address, or a message queue has no route or no consumer.
	ErrNoServer = errors.New("rpcwire: no server")
	// ErrTimeout means the call's deadline passed before a reply arrived.
	// Errors wrapping it also wrap context.DeadlineExceeded when the
	// deadline came from the caller's context.
	ErrTimeout = errors.New("rpcwire: timeout")
	// ErrClosed means the client or server was closed.
	ErrClosed = errors.New("rpcwire: closed")
	// ErrConnection means the connection to the peer or broker failed or
	// was lost while the call was in flight; the call may or may not have run.
	ErrConnection = errors.New("rpcwire: connection failed")
	// ErrMethodNotFound means the server has no method of that name.
	ErrMethodNotFound = errors.New("rpcwire: method not found")
	// ErrNotFound means a server answered that nothing is at the address
	// called: an HTTP 404 Not Found. Either the URL's path has no
	// XML-RPC endpoint, or the server is one that answers an unknown
	// method so (npm's xmlrpc does): unlike ErrMethodNotFound it does not
	// say which, and unlike ErrNoServer a server is there.
	ErrNotFound = errors.New("rpcwire: not found")
	// ErrInvalidParams means the arguments do not fit the method: wrong
	// count, wrong type or a value out of range.
	ErrInvalidParams = errors.New("rpcwire: invalid params")
	// ErrParse means a message could not be decoded.
	ErrParse = errors.New("rpcwire: malformed message")
	// ErrInternal means the server failed while running the call (for
	// example the function panicked).
	ErrInternal = errors.New("rpcwire: internal server error")
	// ErrBusy means the server refused the call because it is at its
	// concurrency limit; retrying later may succeed.
	ErrBusy = errors.New("rpcwire: server busy")
	// ErrTooLarge means a message exceeded the configured size limit.
	ErrTooLarge = errors.New("rpcwire: message too large")
	// ErrUnauthorized means the peer rejected the credentials.
	ErrUnauthorized = errors.New("rpcwire: authentication failed")
	// ErrUnknownScheme means a URL names a transport the table does not have.
	ErrUnknownScheme = errors.New("rpcwire: unknown transport scheme")
)

// Fault codes carried by RemoteError. They follow the XML-RPC
// "specification for fault code interoperability" so that other XML-RPC
// implementations understand them.
const (
	CodeParse          = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternal       = -32603
	CodeApplication    = -32500
	CodeBusy           = -32001
	CodeTooLarge       = -32002
	CodeTimeout        = -32003
)

// RemoteError is a fault reported by the remote side. Every transport
// returns it for a server-side failure, so errors.As(err, &remoteErr)
// works whatever the wire.
type RemoteError struct {
	Code    int
	Message string
}

// Error implements error.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("remote fault %d: %s", e.Code, e.Message)
}

// Is reports whether the fault matches one of the package's sentinel
// errors, so errors.Is(err, ErrMethodNotFound) holds for a fault that a
// server returned with the matching code. Servers that report an unknown
// method with a code of their own are recognised by code and text (see
// methodNotFound).
func (e *RemoteError) Is(target error) bool {
	switch target {
	case ErrMethodNotFound:
		return e.Code == CodeMethodNotFound || methodNotFound(e)
	case ErrInvalidParams:
		return e.Code == CodeInvalidParams
	case ErrParse:
		return e.Code == CodeParse || e.Code == CodeInvalidRequest
	case ErrInternal:
		return e.Code == CodeInternal
	case ErrBusy:
		return e.Code == CodeBusy
	case ErrTooLarge:
		return e.Code == CodeTooLarge
	case ErrTimeout, context.DeadlineExceeded:
		return e.Code == CodeTimeout
	}
	return false
}

// unknownMethodFaults are the unknown-method faults of servers that do
// not use CodeMethodNotFound, by code and a test of the text that leaves
// no doubt. (PHP's xmlrpc extension and WordPress's IXR use -32601;
// npm's xmlrpc answers HTTP 404 instead of a fault.)
var unknownMethodFaults = []struct {
	code int
	is   func(msg string) bool
}{
	// Python's SimpleXMLRPCServer reports every error as fault 1:
	// `<class 'Exception'>:method "x" is not supported`.
	{1, func(msg string) bool {
		return strings.Contains(msg, `method "`) && strings.HasSuffix(msg, `" is not supported`)
	}},
	// Ruby's xmlrpc gem (ERR_METHOD_MISSING): "Method x missing or wrong
	// number of parameters!". The gem dispatches by name and number of
	// arguments, so with a wrong count it means the same: no method of
	// that name takes that many.
	{1, func(msg string) bool {
		return strings.HasPrefix(msg, "Method ") && strings.HasSuffix(msg, " missing or wrong number of parameters!")
	}},
	// PHP's phpxmlrpc library: "Unknown method".
	{1, func(msg string) bool { return strings.HasPrefix(msg, "Unknown method") }},
}

// methodNotFound reports whether f is another server's way of saying it
// has no such method.
func methodNotFound(f *RemoteError) bool {
	for _, u := range unknownMethodFaults {
		if f.Code == u.code && u.is(f.Message) {
			return true
		}
	}
	return false
}

// ToRemote turns an error returned by a dispatcher into the fault sent on
// the wire. A *RemoteError in the chain is kept as is; sentinel errors get
// their fault code; anything else is an application fault with the error's
// text. A nil error gives nil.
func ToRemote(err error) *RemoteError {
	if err == nil {
		return nil
	}
	var re *RemoteError
	if errors.As(err, &re) {
		return re
	}
	code := CodeApplication
	switch {
	case errors.Is(err, ErrMethodNotFound):
		code = CodeMethodNotFound
	case errors.Is(err, ErrInvalidParams):
		code = CodeInvalidParams
	case errors.Is(err, ErrParse):
		code = CodeParse
	case errors.Is(err, ErrInternal):
		code = CodeInternal
	case errors.Is(err, ErrBusy):
		code = CodeBusy
	case errors.Is(err, ErrTooLarge):
		code = CodeTooLarge
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		code = CodeTimeout
	}
	return &RemoteError{Code: code, Message: err.Error()}
}

// ContextError wraps the context's error for a call that did not finish:
// a passed deadline also matches ErrTimeout, a cancel matches
// context.Canceled. what names the call for the message.
func ContextError(ctx context.Context, what string) error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w: %w", what, ErrTimeout, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// FaultError is what a client returns for a fault reply: the context's
// error when the caller's context is done or its deadline has passed (the
// server only reported the caller's own deadline, possibly a moment before
// the caller's timer fired), else the fault itself.
func FaultError(ctx context.Context, what string, fault *RemoteError) error {
	if err := ContextError(ctx, what); err != nil {
		return err
	}
	if fault.Code == CodeTimeout {
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			return fmt.Errorf("%s: %w: %w", what, ErrTimeout, context.DeadlineExceeded)
		}
	}
	return fault
}
