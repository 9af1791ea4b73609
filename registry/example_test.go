package registry_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
)

func ExampleRegistry_Register() {
	reg := registry.New()

	// The article's fun_add: plain Go, no RPC types in sight.
	if err := reg.Register("fun_add", func(a, b int) int { return a + b },
		registry.WithHelp("fun_add(a, b) returns a + b.")); err != nil {
		fmt.Println(err)
		return
	}

	// Functions may take a context and return an error.
	err := reg.Register("div", func(ctx context.Context, a, b float64) (float64, error) {
		if b == 0 {
			return 0, errors.New("division by zero")
		}
		return a / b, nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Register checks the signature once, so a function the wire cannot
	// carry fails here rather than on the first call.
	fmt.Println(reg.Register("bad", func(c chan int) {}))

	// A transport hands Dispatch the decoded wire values.
	ctx := context.Background()
	sum, err := reg.Dispatch(ctx, "fun_add", []any{int64(2), int64(3)})
	fmt.Println(sum, err)
	_, err = reg.Dispatch(ctx, "div", []any{1.0, int64(0)})
	fmt.Println(err)
	_, err = reg.Dispatch(ctx, "fun_add", []any{int64(2), "3"})
	fmt.Println(errors.Is(err, transport.ErrInvalidParams), err)
	sig, _ := reg.Dispatch(ctx, registry.MethodSignature, []any{"fun_add"})
	fmt.Println(sig)
	// Output:
	// registry: bad: parameter 1: chan int: type cannot travel over rpcwire
	// 5 <nil>
	// division by zero
	// true rpcwire: invalid params: fun_add: argument 2: want int, got string "3"
	// [[int int int]]
}

func ExampleWithMiddleware() {
	// Log one line per call with its outcome and duration. The time and
	// duration are left out of the output so the example's output is stable.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "took" {
				return slog.Attr{}
			}
			return a
		},
	}))
	logging := func(next transport.Handler) transport.Handler {
		return func(ctx context.Context, req *transport.Request) (any, error) {
			start := time.Now()
			result, err := next(ctx, req)
			if err != nil {
				logger.Warn("call failed", "method", req.Method, "fault", transport.ToRemote(err).Code, "took", time.Since(start))
			} else {
				logger.Info("call", "method", req.Method, "args", len(req.Args), "took", time.Since(start))
			}
			return result, err
		}
	}

	reg := registry.New(registry.WithMiddleware(logging))
	reg.MustRegister("fun_add", func(a, b int) int { return a + b })

	ctx := context.Background()
	_, _ = reg.Dispatch(ctx, "fun_add", []any{int64(2), int64(3)})
	_, _ = reg.Dispatch(ctx, "fun_add", []any{int64(2)})
	_, _ = reg.Dispatch(ctx, "no_such_method", nil) // middleware sees these too
	// Output:
	// level=INFO msg=call method=fun_add args=2
	// level=WARN msg="call failed" method=fun_add fault=-32602
	// level=WARN msg="call failed" method=no_such_method fault=-32601
}
