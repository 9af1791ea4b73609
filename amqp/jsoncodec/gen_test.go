package jsoncodec

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Random wire values for the round-trip tests. Every value generated
// survives the trip exactly: strings are valid UTF-8, doubles finite,
// times UTC, slices and maps non-nil.

// genRunes are the characters random strings are drawn from: plain text,
// what JSON escapes (quotes, backslashes, control characters), what
// encoding/json escapes besides (<, >, &, U+2028), the tag sigil and
// multi-byte UTF-8.
var genRunes = []rune("abcxyzABC019 _.-<>&'\"\\/;\t\n\r\x00\x01\x1f\x7f$é€日本😀\u00a0\u2028\u2029\ufffd")

// genKeys are member names drawn besides random ones: the tags, names
// that sort before them, and names that look like tags but are not.
var genKeys = []string{tagBase64, tagDateTime, tagMap, "", "!", "#", "$", "$x", "$base", "$map2", "method", "params", "result", "error"}

func randomString(r *rand.Rand) string {
	n := r.IntN(12)
	var b strings.Builder
	for range n {
		b.WriteRune(genRunes[r.IntN(len(genRunes))])
	}
	return b.String()
}

func randomKey(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return genKeys[r.IntN(len(genKeys))]
	}
	return randomString(r)
}

func randomInt(r *rand.Rand) int64 {
	switch r.IntN(5) {
	case 0:
		return int64(r.IntN(256)) - 128
	case 1:
		return int64(r.Int32()) * int64(1-2*r.IntN(2))
	case 2:
		return []int64{0, 1, -1, 1 << 53, 1<<53 + 1, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64}[r.IntN(9)]
	}
	return int64(r.Uint64())
}

func randomDouble(r *rand.Rand) float64 {
	switch r.IntN(4) {
	case 0:
		return float64(r.IntN(2000)-1000) / 8
	case 1:
		return []float64{0, math.Copysign(0, -1), 1, 1e6, 1e20, 1e21, 0.1, 1e-7, 5e-324, math.MaxFloat64, -math.SmallestNonzeroFloat64, 1e16, 123456789.125}[r.IntN(13)]
	}
	for {
		f := math.Float64frombits(r.Uint64())
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	}
}

// randomValue returns a random wire value nested at most depth levels.
func randomValue(r *rand.Rand, depth int) any {
	kinds := 8
	if depth > 0 {
		kinds = 11
	}
	switch r.IntN(kinds) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 1
	case 2:
		return randomInt(r)
	case 3:
		return randomString(r)
	case 4:
		return randomDouble(r)
	case 5:
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	case 6:
		sec := r.Int64N(253402300799+62135596800) - 62135596800 // years 1..9999
		return time.Unix(sec, r.Int64N(1e9)*int64(r.IntN(2))).UTC()
	case 7:
		return randomString(r)
	case 8:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = randomValue(r, depth-1)
		}
		return a
	}
	m := make(map[string]any)
	for range r.IntN(4) {
		m[randomKey(r)] = randomValue(r, depth-1)
	}
	return m
}

// randomArgs returns a random argument list.
func randomArgs(r *rand.Rand) []any {
	args := make([]any, r.IntN(5))
	for i := range args {
		args[i] = randomValue(r, 3)
	}
	return args
}
