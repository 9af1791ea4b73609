package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestShortSoak(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-calls", "2000", "-transports", "mem,http", "-interval", "50ms"}, &out, &errOut)
	assert.Equal(t, 0, code, "%s%s", out.String(), errOut.String())
	assert.Contains(t, out.String(), "(baseline)")
	assert.Contains(t, out.String(), "mem        1000 calls, 0 failed")
	assert.Contains(t, out.String(), "PASS")
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-calls", "0"}, {"-transports", "gopher"}, {"extra"}, {"-transports", ","}} {
		var out, errOut bytes.Buffer
		assert.Equal(t, 2, run(context.Background(), args, &out, &errOut), args)
	}
}
