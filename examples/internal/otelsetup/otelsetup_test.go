package otelsetup

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		enabled bool
		err     string
	}{
		{map[string]string{}, false, ""},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none"}, false, ""},
		{map[string]string{"OTEL_TRACES_EXPORTER": "console"}, true, ""},
		{map[string]string{"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}, false, ""},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, true, ""},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, false, "http/protobuf only"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "jaeger"}, false, "want console, otlp or none"},
		{map[string]string{"OTEL_PROPAGATORS": "b3"}, false, "want tracecontext, baggage or none"},
	} {
		for _, k := range []string{"OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_PROPAGATORS"} {
			t.Setenv(k, tc.env[k])
		}
		tel, err := New(context.Background(), Config{Service: "test"})
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, "%v", tc.env)
			continue
		}
		require.NoError(t, err, "%v", tc.env)
		assert.Equal(t, tc.enabled, tel.Enabled, "%v", tc.env)
		assert.Equal(t, tc.enabled, len(tel.ClientOptions()) > 0)
		assert.Equal(t, tc.enabled, len(tel.ServerOptions()) > 0)
		assert.NoError(t, tel.Shutdown(context.Background()))
	}
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	t.Setenv("OTEL_PROPAGATORS", "")
	tel, err := New(context.Background(), Config{Metrics: true})
	require.NoError(t, err)
	assert.True(t, tel.Enabled, "metrics alone enable the interceptors")
	assert.NotNil(t, tel.Metrics)
	require.NoError(t, tel.Shutdown(context.Background()))
}
