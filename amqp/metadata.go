package amqp

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/rpcwire/rpcwire/transport"
)

// Metadata over AMQP are message headers: a call's metadata travel as
// string headers of the same names, beside rpcwire's own (x-deadline) in
// the same table, and a request's headers are the metadata the function
// reads, less the reserved ones (transport.Reserved: x-deadline,
// x-fault-code, x-type, RabbitMQ's x-death and kin). Header names are
// lower-cased (a pika caller's "X-Request-Id" is "x-request-id"), values
// of other AMQP types are given as text: integers and floats in decimal,
// booleans as true or false, timestamps in RFC 3339, byte arrays that are
// UTF-8 as that text. Surrounding spaces are trimmed, as HTTP does; a
// header whose name or value the metadata rules still refuse, or whose
// value is a table or an array, is left out.

// addMetadata adds a call's metadata to msg's headers. The client core
// has checked them: no key is reserved, so none clashes with ours.
func addMetadata(msg *amqp091.Publishing, md transport.Metadata) {
	if len(md) == 0 {
		return
	}
	if msg.Headers == nil {
		msg.Headers = make(amqp091.Table, len(md)+1)
	}
	for k, v := range md {
		msg.Headers[k] = v
	}
}

// incomingMetadata returns the metadata a request's headers carry, nil
// when there are none: a request of ours without metadata (x-deadline
// only) costs no allocation.
func incomingMetadata(h amqp091.Table) transport.Metadata {
	var md transport.Metadata
	for name, value := range h {
		key := name
		if !transport.ValidKey(key) {
			key = strings.ToLower(name)
			if !transport.ValidKey(key) {
				continue
			}
		}
		if transport.Reserved(key) {
			continue
		}
		v, ok := headerText(value)
		if !ok {
			continue
		}
		if v = strings.Trim(v, " \t"); !transport.ValidValue(v) {
			continue
		}
		if md == nil {
			md = make(transport.Metadata, len(h))
		}
		md[key] = v
	}
	return md
}

// headerText renders a header value as metadata text; ok is false for
// the values that have none (tables, arrays, void).
func headerText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), utf8.Valid(x)
	case bool:
		return strconv.FormatBool(x), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int:
		return strconv.Itoa(x), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case time.Time:
		return x.UTC().Format(time.RFC3339), true
	case amqp091.Decimal:
		return decimalText(x), true
	}
	return "", false
}

// decimalText renders an AMQP decimal: Value × 10^-Scale.
func decimalText(d amqp091.Decimal) string {
	s := strconv.FormatInt(int64(d.Value), 10)
	if d.Scale == 0 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for len(s) <= int(d.Scale) {
		s = "0" + s
	}
	s = s[:len(s)-int(d.Scale)] + "." + s[len(s)-int(d.Scale):]
	if neg {
		s = "-" + s
	}
	return s
}

// peerContext returns ctx carrying the transport.Peer of a request: its
// reply queue, checked user id and delivery properties. It replaces the
// delivery pointer the server used to put there, at the same cost: one
// allocation.
func (s *Server) peerContext(ctx context.Context, d *amqp091.Delivery) context.Context {
	scheme := "amqp"
	if s.cfg.tls {
		scheme = "amqps"
	}
	return transport.NewPeerContext(ctx, transport.Peer{
		Transport:     scheme,
		Addr:          d.ReplyTo,
		User:          d.UserId,
		Queue:         s.cfg.queue,
		CorrelationID: d.CorrelationId,
		MessageID:     d.MessageId,
		Redelivered:   d.Redelivered,
	})
}
