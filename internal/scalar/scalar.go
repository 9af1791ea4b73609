// Package scalar reads a word of text as the tutorial's text bodies mean
// it: the AMQP text codec reads call arguments and replies with it, and
// the example commands read their command-line arguments with it, so that
// "fib 7" typed in a shell means what a body "7" means on the queue.
package scalar

import (
	"errors"
	"strconv"
	"strings"
)

// Parse reads word as a decimal integer (int64), a decimal float
// (float64), true or false (also Python's True and False), and returns
// the word itself, as a string, when it is none of those.
func Parse(word string) any {
	if v, ok := Literal(word); ok {
		return v
	}
	return word
}

// Literal is Parse for a word that must be a number or a boolean: ok is
// false for any other word.
func Literal(word string) (v any, ok bool) {
	if word == "" {
		return nil, false
	}
	if c := word[0]; c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' {
		if n, err := strconv.ParseInt(word, 10, 64); err == nil {
			return n, true
		}
		if f, err := strconv.ParseFloat(word, 64); err == nil || errors.Is(err, strconv.ErrRange) {
			if !strings.ContainsAny(word, "_xXpPiInN") { // decimal only: no "0x1p3", "1_000", "-Inf"
				return f, true
			}
		}
	}
	switch word {
	case "true", "True":
		return true, true
	case "false", "False":
		return false, true
	}
	return nil, false
}
