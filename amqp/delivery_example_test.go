package amqp_test

import (
	"context"
	"sync"

	"github.com/rpcwire/rpcwire/amqp"
	"github.com/rpcwire/rpcwire/registry"
)

// A function with a side effect drops the duplicates at-least-once
// delivery can bring: the correlation id stays the same when the broker
// redelivers a request whose server died before acking it. (A real
// service keeps the ids in its database, in the transaction of the
// effect, and forgets them after a while.)
func ExampleDeliveryFromContext() {
	var (
		mu   sync.Mutex
		done = map[string]int{} // correlation id → result
	)
	charge := func(ctx context.Context, cents int) (int, error) {
		d, ok := amqp.DeliveryFromContext(ctx)
		if ok && d.CorrelationID != "" {
			mu.Lock()
			defer mu.Unlock()
			if r, dup := done[d.CorrelationID]; dup {
				return r, nil // ran already: answer again, charge once
			}
		}
		r := cents // ... charge the card ...
		if ok && d.CorrelationID != "" {
			done[d.CorrelationID] = r
		}
		return r, nil
	}
	reg := registry.New()
	reg.MustRegister("charge", charge)
	_ = reg // serve it with amqp.Listen
}
