package amqp

// ParseTextArg reads one word as the text codec reads an argument: a
// decimal integer (int64), a decimal float (float64), true or false, else
// the word itself as a string. Command-line tools use it so that "fib 7"
// typed in a shell means what a tutorial body "7" means on the queue.
func ParseTextArg(word string) any { return parseTextScalar(word, word) }
