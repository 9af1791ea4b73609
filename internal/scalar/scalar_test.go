package scalar

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParse(t *testing.T) {
	for word, want := range map[string]any{
		"7": int64(7), "-3": int64(-3), "+4": int64(4), "1.5": 1.5, "-2e3": -2e3, ".5": 0.5, "1e400": nil,
		"true": true, "True": true, "false": false, "False": false,
		"TRUE": "TRUE", "0x10": "0x10", "1_000": "1_000", "-Inf": "-Inf", "NaN": "NaN", "": "", "fib": "fib", "7a": "7a",
	} {
		if word == "1e400" {
			f, ok := Parse(word).(float64)
			assert.True(t, ok && f > 1e308, "an overflowing decimal is +Inf, still a float")
			continue
		}
		assert.Equal(t, want, Parse(word), "%q", word)
	}
	_, ok := Literal("fib")
	assert.False(t, ok)
	v, ok := Literal("13")
	assert.True(t, ok)
	assert.Equal(t, int64(13), v)
}
