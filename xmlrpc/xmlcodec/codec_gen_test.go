package xmlcodec

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Random wire values for the round-trip, Python and differential tests.
// Every value generated survives the trip exactly: strings hold only
// characters XML carries, doubles are finite, times are UTC whole seconds.

// genRunes are the characters random strings are drawn from: plain text,
// the characters XML escapes, white space and multi-byte UTF-8.
var genRunes = []rune("abcxyzABC019 _.-<>&'\";\t\n\r/=?!é€日本😀\u00a0\u2028\ufffd")

func randomString(r *rand.Rand) string {
	n := r.IntN(12)
	var b strings.Builder
	for range n {
		b.WriteRune(genRunes[r.IntN(len(genRunes))])
	}
	return b.String()
}

func randomInt(r *rand.Rand) int64 {
	switch r.IntN(5) {
	case 0:
		return int64(r.IntN(256)) - 128
	case 1:
		return int64(r.Int32()) * int64(1-2*r.IntN(2))
	case 2:
		return []int64{0, 1, -1, math.MaxInt32, math.MaxInt32 + 1, math.MinInt32, math.MinInt32 - 1, math.MaxInt64, math.MinInt64}[r.IntN(9)]
	}
	return int64(r.Uint64())
}

func randomDouble(r *rand.Rand) float64 {
	switch r.IntN(4) {
	case 0:
		return float64(r.IntN(2000)-1000) / 8
	case 1:
		return []float64{0, 0.1, 1e21, 1e-7, 5e-324, math.MaxFloat64, -math.SmallestNonzeroFloat64, 1e16, 123456789.125}[r.IntN(9)]
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
	kinds := 9
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
	case 3, 4:
		return randomString(r)
	case 5:
		return randomDouble(r)
	case 6:
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	case 7:
		return time.Unix(r.Int64N(253402300799+62135596800)-62135596800, 0).UTC() // years 1..9999
	case 8:
		return randomString(r)
	case 9:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = randomValue(r, depth-1)
		}
		return a
	}
	m := make(map[string]any)
	for range r.IntN(4) {
		m[randomString(r)] = randomValue(r, depth-1)
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

// randomMethod returns a random method name of the characters the
// XML-RPC spec allows, so Python (which does not escape method names)
// reads it too.
func randomMethod(r *rand.Rand) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/"
	b := make([]byte, 1+r.IntN(16))
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}
