// Package amqp is rpcwire's RabbitMQ transport: the RabbitMQ tutorial's
// RPC (a request queue, an exclusive reply queue named in reply_to, a
// correlation_id per call, ack after the reply), done so that it never
// hangs, loses nothing it can keep, and interoperates with the tutorial's
// pika programs.
//
// # URLs
//
//	amqp://user:pass@host:port/vhost?queue=rpc_queue&codec=xml
//	amqps://user:pass@host:5671/vhost?queue=billing&codec=json   (TLS from transport.WithTLSConfig)
//	amqp://user:pass@node1:5672,node2:5672,node3/vhost?quorum=true (a cluster)
//
// The authority may name several brokers, the nodes of a cluster, as a
// comma-separated host list with one set of credentials, vhost and
// parameters; a host without a port gets the scheme's (5672, 5671).
// Clients and servers try the addresses in a random order (shuffle=false
// keeps the given one) and move on to the next at once when a connection
// fails or is lost, backing off only after every address failed. Several
// URLs joined with ';' (kombu's form) are refused with an error that says
// how to write a list. WithHosts builds such a URL from a list.
//
// The vhost is the path ("/" or empty for the default vhost "/", "/%2F"
// too). Query parameters, shared by clients and servers (each ignores the
// ones that are not its business):
//
//	queue=NAME       request queue (default rpc_queue, the tutorial's)
//	codec=xml|json|text
//	                 the client's body format (default xml); a server
//	                 answers every codec, in the codec of each request
//	method=NAME      server: the method of text requests that carry no
//	                 type property (the tutorial's do not); e.g. fib
//	workers=N        server: calls run at once (default 128, or
//	                 transport.WithMaxInFlight)
//	prefetch=N       server: unacked requests the broker hands it
//	                 (default = workers)
//	durable=true     server: declare the request queue durable;
//	                 client: publish requests persistent
//	quorum=true      server: declare it a quorum queue (durable, replicated);
//	                 client: as durable
//	exclusive=true   server: declare it exclusive (deleted with the server's
//	                 connection, so clients get ErrNoServer at once)
//	auto_delete=true server: delete it when its last consumer goes
//	dead_letter=EX   server: declare the queue with this dead-letter
//	                 exchange and reject undecodable requests to it (after
//	                 their fault reply), keeping them for inspection
//	dead_letter_queue=NAME
//	                 server: as dead_letter, through the default exchange to
//	                 the durable queue NAME, which the server declares
//	timeout=5s       client: bound for calls whose context has no deadline
//	shuffle=false    try the broker addresses in the given order
//
// and amqp091-go's own: heartbeat, connection_timeout, channel_max,
// auth_mechanism, certfile, keyfile, cacertfile, server_name_indication.
// Any other parameter is an error that lists the known ones. Credentials
// never appear in errors or logs.
//
// By default the request queue is declared as pika's tutorial declares it:
// transient and not exclusive, so the tutorial's programs and ours share
// it. RabbitMQ 4 deprecates transient non-exclusive queues: new
// deployments should use durable=true or quorum=true. A server that finds
// the queue already declared with other arguments (the 406
// PRECONDITION_FAILED a mismatched declare gets) uses it as it is.
//
// # Codecs
//
//   - xml: XML-RPC methodCall/methodResponse bodies (xmlcodec.Codec), the same
//     bytes as XML-RPC over HTTP. The default; any value type.
//   - json: a small envelope ({"method","params"} → {"result"} or
//     {"error":{"code","message"}}), see jsoncodec.Codec. Any value type;
//     the choice for non-Go peers that speak JSON.
//   - text: the tutorial's plain body, see TextCodec: "7" in, "13" out, the
//     method in the type property or the server's default method. Scalars
//     only; what pika's tutorial programs speak.
//
// A server picks the codec of each request from its content_type
// (text/xml, application/json, text/plain); a request without one (pika
// sends none) or with application/octet-stream (what several AMQP clients
// put on a message by default) is XML-RPC when its body starts with '<',
// JSON with '{', and text otherwise.
//
// # On the wire
//
// A request is published to the default exchange with the queue name as
// routing key, mandatory, with content_type naming its codec, reply_to
// (absent for one-way calls), a correlation_id, type = the method (text
// codec only), and, when the caller has a deadline, expiration (ms left)
// and an x-deadline header (Unix ms). A reply goes to reply_to with the
// request's correlation_id and content_type; a text reply also names the
// result's type in its type property (int, double, boolean, string,
// base64, dateTime, nil, json) or, for a fault, carries an x-fault-code
// header. A call's metadata (transport.AppendToOutgoing) travel as string
// headers of their own names; a server gives a request's headers to the
// function as its metadata (transport.IncomingMetadata), less rpcwire's
// and RabbitMQ's own (x-deadline, x-fault-code, x-type, x-death, ...),
// with names lower-cased and values of other types (a number a pika
// caller sends) as text. The function's transport.Peer has the request's
// reply_to (Addr), user_id (User, which RabbitMQ checks), correlation_id,
// message_id and redelivered flag. Any AMQP client can speak this.
//
// # Delivery
//
// A client publishes requests with mandatory set and publisher confirms: a
// request queue that does not exist fails the call at once with
// transport.ErrNoServer, and a request the broker refuses (basic.nack: a
// quorum queue electing a leader, say) is published again after a pause,
// on a fresh channel, within the call's context; a call whose context
// ends while the broker keeps refusing says so. The context's
// deadline becomes the message's expiration and an x-deadline header, so a
// server never runs a call whose caller has given up. Until a client has
// seen the request queue with a consumer, it checks before each call (a
// passive declare) and fails at once with transport.ErrNoServer ("queue
// rpc_queue has 0 consumers") rather than publishing into a queue nobody
// serves; once it has seen one, its calls wait in the queue while servers
// restart or reconnect, and a call that times out there says the same.
// A server publishes each reply with a publisher confirm and acks the
// request only once the reply is confirmed, so requests of a server that
// dies, and requests whose replies were lost with a broker node, are
// redelivered to another: delivery is at-least-once (see Guarantees
// below). Notify publishes a one-way message (no reply_to, no expiration)
// and returns once the broker has confirmed it, or with ErrNoServer when
// the queue does not exist.
// Bodies are bounded by transport.WithMaxMessageSize (4 MiB by default); a
// larger request gets a fault. The broker hands a server whole messages,
// so up to prefetch messages of the broker's own limit (max_message_size,
// 128 MiB by default in RabbitMQ 3) can sit in its memory before that
// check: lower max_message_size in rabbitmq.conf where senders are not
// trusted. Requests are decoded only while their bytes fit
// transport.WithMaxBytesInFlight (32 MiB by default; a decoded request
// takes a few times its size): a worker whose request does not fit waits
// for others to finish. Undecodable or oversized requests get a
// fault reply (when they have a reply_to), are logged once (Warn) and are
// acked, never requeued; with dead_letter or dead_letter_queue they are
// rejected without requeue instead, so the broker moves them, body and
// properties intact, to the dead-letter queue for inspection (only if the
// queue has x-dead-letter-exchange: a queue declared earlier without it
// keeps its arguments, and the server says so in its log). Replies are
// published mandatory: one whose reply_to queue no longer exists (the
// caller closed) is logged once (Info) and dropped. Several servers on one
// queue share its work.
//
// A caller that cancels its context (rather than letting its deadline
// pass, which the server knows already) publishes a notice to the direct
// exchange rpcwire.cancels with its request queue's name as routing key;
// each server binds a private queue to it with its own queue's name, so
// only the servers of that queue see the notice, and the one running the
// call cancels its context, as a closed HTTP connection would. Without the permission to declare that exchange, calls
// simply run to their end.
//
// Client and server own their reconnects: when the connection is lost
// both reconnect at once to the next broker address, then with backoff
// between rounds of every address (a random 50-100 ms first, doubling to
// 2.5-5 s), re-declare what they need and carry on. A call waiting for
// its reply when the connection goes is not failed: it publishes its
// request again on the new connection (same correlation id, the new
// reply queue) and waits within its context, so it survives the loss of
// its broker node. New calls made while reconnecting wait for the next
// round within their context and fail with transport.ErrConnection when
// the round fails.
//
// # Flow control
//
// A broker under a memory or disk alarm blocks its publishers
// (connection.blocked). A client then fails new calls and one-way
// messages at once with transport.ErrBusy naming the broker's reason
// ("low on memory"), rather than letting them wait in a publish the broker
// does not read, and serves again by itself when the broker unblocks. A
// server's replies wait until the broker unblocks (its requests stay
// unacked meanwhile). Every step of a call honours its context: publishes
// run on a goroutine of the connection (amqp091's Publish takes no
// context) and the call returns when its context ends; the look at the
// request queue is bounded too, and Close does not wait on a blocked
// broker.
//
// # Guarantees
//
// A call either returns its own reply (replies find their caller by a
// correlation id unique to the call) or fails with an error that says why:
// transport.ErrTimeout when its context ends first, transport.ErrNoServer
// when the request queue does not exist, transport.ErrBusy when the broker
// blocks publishers, transport.ErrConnection when no broker address can
// be reached. A call returns when its context ends (after a deadline it
// may take up to 100 ms more for a look at the request queue that can say
// why nobody answered). A call in flight when its connection is lost is
// published again over the next one: on a cluster with a quorum request
// queue, killing any one node under load costs no call
// (TestClusterFailover, scripts/cluster-test.sh: calls resumed about
// 10 ms after the client's node was killed, and 0.3–0.7 s after the
// queue leader's). Across a broker restart (TestBrokerRestart,
// scripts/broker-restart.sh) calls in flight wait for the broker's return
// within their context and are answered after it; client and server serve
// again within seconds; a transient request queue is lost with its
// requests and re-declared by the server, while requests waiting in a
// durable or quorum queue (which clients of such a queue publish
// persistent) are served after the restart.
//
// Delivery to functions is at-least-once. A server acks a request only
// once its reply is confirmed, so when a server crashes, is closed, or
// loses its connection between running a function and the ack, the broker
// hands the request to a server again and the function runs a second
// time; and a caller whose connection is lost publishes its request
// again, so a request that had reached the queue runs twice (the original
// and the copy). The caller gets one reply: the first one for its
// correlation id. A function with side effects should therefore be
// idempotent: get the request's transport.Peer with
// transport.PeerFromContext and record its CorrelationID with the effect
// (in the same transaction), and on a request whose id is known return
// the recorded result instead of acting again; Redelivered says when a
// check is needed. This covers the
// broker's redeliveries; a caller that retries a failed call sends a new
// request with a new id, so for end-to-end exactly-once effects pass an
// idempotency key of the caller's as an argument.
package amqp
