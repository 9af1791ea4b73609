package rawecho

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rpcwire/rpcwire/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHTTP(t *testing.T) {
	e, err := NewHTTP(4)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := e.Call(ctx, []byte("keep:"), []byte("<x/>"), []string{"text/xml"})
	require.NoError(t, err)
	assert.Equal(t, "keep:<x/>", string(got))
	require.NoError(t, e.Close(ctx))
}

func TestAMQP(t *testing.T) {
	broker := testenv.URL(t)
	if v := os.Getenv("AMQP_URL"); v != "" {
		broker = v
	}
	e, err := NewAMQP(broker, 8)
	require.NoError(t, err)
	defer func() { assert.NoError(t, e.Close()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := e.Call(ctx, []byte("2 3"), "text/plain")
	require.NoError(t, err)
	assert.Equal(t, "2 3", string(got))
}
