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

// TestBytesInFlight: request bodies count against
// transport.WithMaxBytesInFlight from before they are read until their
// reply is out. A request beyond it waits unread and runs once bytes
// come free; one that waits past the handler's budgetWait gets a busy
// fault and its connection closed.
func TestBytesInFlight(t *testing.T) {
	const arg = 2500 // a body of about 2.7 kB
	reg := registry.New()
	var g transporttest.Gauge
	release := make(chan struct{})
	reg.MustRegister("hold", func(ctx context.Context, s string) int {
		defer g.Enter()()
		select {
		case <-release:
		case <-ctx.Done():
		}
		return len(s)
	})
	h, err := NewHandler(reg, transport.WithMaxMessageSize(6000), transport.WithMaxBytesInFlight(6000))
	require.NoError(t, err)
	defer h.Close()
	h.budgetWait = 200 * time.Millisecond
	hs := httptest.NewServer(h)
	defer hs.Close()
	u, err := url.Parse(hs.URL)
	require.NoError(t, err)
	c, err := Dial(context.Background(), u)
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	big := strings.Repeat("x", arg)
	results := make(chan error, 3)
	for range 2 {
		go func() { results <- c.Call(ctx, "hold", []any{big}, nil) }()
	}
	require.Eventually(t, func() bool { return g.Running() == 2 }, 10*time.Second, time.Millisecond)
	held, waiting := h.svc.BytesInFlight()
	assert.Greater(t, held, int64(2*arg))
	assert.Zero(t, waiting)

	// A third does not fit: after budgetWait it is refused, busy, unread.
	body := `<?xml version="1.0"?><methodCall><methodName>hold</methodName><params><param><value>` + big +
		`</value></param></params></methodCall>`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := hs.Client().Do(req)
	require.NoError(t, err)
	reply := readAll(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, resp.Close, "the connection closes: the body was not read")
	assert.Contains(t, reply, "<int>-32001</int>")
	assert.Contains(t, reply, "server busy: 6000 bytes of requests in flight")
	assert.Equal(t, 2, g.Most(), "the third never ran")

	// With a longer wait, a request runs once bytes come free.
	h.budgetWait = 10 * time.Second
	go func() { results <- c.Call(ctx, "hold", []any{big}, nil) }()
	require.Eventually(t, func() bool { _, w := h.svc.BytesInFlight(); return w == 1 }, 10*time.Second, time.Millisecond)
	close(release)
	for range 3 {
		assert.NoError(t, <-results)
	}
	assert.Equal(t, 2, g.Most(), "never more than two at once")
	held, waiting = h.svc.BytesInFlight()
	assert.Zero(t, held, "every byte given back")
	assert.Zero(t, waiting)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}
