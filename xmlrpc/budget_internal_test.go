package xmlrpc

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/registry"
	"github.com/rpcwire/rpcwire/transport"
	"github.com/rpcwire/rpcwire/transport/transporttest"
)

// budgetServer serves "hold" (which waits for release) on a handler
// whose bytes in flight fit two calls of hold with a 2500-byte argument,
// and that waits budgetWait for bytes.
type budgetServer struct {
	h       *Handler
	hs      *httptest.Server
	c       transport.Client
	g       transporttest.Gauge
	release chan struct{}
}

func newBudgetServer(t *testing.T, budgetWait time.Duration) *budgetServer {
	t.Helper()
	bs := &budgetServer{release: make(chan struct{})}
	reg := registry.New()
	reg.MustRegister("hold", func(ctx context.Context, s string) int {
		defer bs.g.Enter()()
		select {
		case <-bs.release:
		case <-ctx.Done():
		}
		return len(s)
	})
	var err error
	bs.h, err = NewHandler(reg, transport.WithMaxMessageSize(6000), transport.WithMaxBytesInFlight(6000))
	require.NoError(t, err)
	bs.h.budgetWait = budgetWait // before it serves
	bs.hs = httptest.NewServer(bs.h)
	u, err := url.Parse(bs.hs.URL)
	require.NoError(t, err)
	bs.c, err = Dial(context.Background(), u)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = bs.c.Close()
		bs.hs.Close()
		_ = bs.h.Close()
	})
	return bs
}

// holdTwo starts two calls of hold, which take the bytes in flight, and
// waits until they run.
func (bs *budgetServer) holdTwo(t *testing.T, ctx context.Context, results chan<- error) {
	t.Helper()
	for range 2 {
		go func() { results <- bs.c.Call(ctx, "hold", []any{strings.Repeat("x", 2500)}, nil) }()
	}
	require.Eventually(t, func() bool { return bs.g.Running() == 2 }, 10*time.Second, time.Millisecond)
	held, waiting := bs.h.svc.BytesInFlight()
	assert.Greater(t, held, int64(5000))
	assert.Zero(t, waiting)
}

// TestBytesInFlight: request bodies count against
// transport.WithMaxBytesInFlight from before they are read until their
// reply is out. A request beyond it waits unread and runs once bytes
// come free; one that waits past the handler's budgetWait gets a busy
// fault and its connection closed.
func TestBytesInFlight(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	body := `<?xml version="1.0"?><methodCall><methodName>hold</methodName><params><param><value>` +
		strings.Repeat("x", 2500) + `</value></param></params></methodCall>`

	t.Run("busy after the wait", func(t *testing.T) {
		bs := newBudgetServer(t, 200*time.Millisecond)
		results := make(chan error, 2)
		bs.holdTwo(t, ctx, results)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, bs.hs.URL, strings.NewReader(body))
		require.NoError(t, err)
		resp, err := bs.hs.Client().Do(req)
		require.NoError(t, err)
		reply := readAll(t, resp)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.True(t, resp.Close, "the connection closes: the body was not read")
		assert.Contains(t, reply, "<int>-32001</int>")
		assert.Contains(t, reply, "server busy: 6000 bytes of requests in flight")
		assert.Equal(t, 2, bs.g.Most(), "the third never ran")
		close(bs.release)
		for range 2 {
			assert.NoError(t, <-results)
		}
	})

	t.Run("runs when bytes come free", func(t *testing.T) {
		bs := newBudgetServer(t, 10*time.Second)
		results := make(chan error, 3)
		bs.holdTwo(t, ctx, results)
		go func() { results <- bs.c.Call(ctx, "hold", []any{strings.Repeat("x", 2500)}, nil) }()
		require.Eventually(t, func() bool { _, w := bs.h.svc.BytesInFlight(); return w == 1 }, 10*time.Second, time.Millisecond)
		close(bs.release)
		for range 3 {
			assert.NoError(t, <-results)
		}
		assert.Equal(t, 2, bs.g.Most(), "never more than two at once")
		// The handler gives its bytes back as it returns, which may be
		// just after the caller has the reply.
		require.Eventually(t, func() bool {
			held, waiting := bs.h.svc.BytesInFlight()
			return held == 0 && waiting == 0
		}, 10*time.Second, time.Millisecond, "every byte given back")
	})
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}
