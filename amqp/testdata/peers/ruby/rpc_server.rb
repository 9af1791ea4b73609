#!/usr/bin/env ruby
# RabbitMQ tutorial six's RPC server on bunny (the tutorial's rpc_server.rb),
# with the queue and broker from argv, prefetch 1 and manual acks.
#
# usage: ruby rpc_server.rb [QUEUE] [AMQP_URL]
#        (defaults rpc_queue, amqp://guest:guest@127.0.0.1:5672)
#
# Declares QUEUE as the tutorial does (channel.queue(name): not durable, not
# exclusive, not auto-delete: it stays after the server stops), prefetch 1,
# and for each request whose body is an integer n publishes fib(n).to_s to
# reply_to with the request's correlation_id, then acks. fib is iterative on
# Ruby integers (exact for any n). Where the tutorial would answer nonsense
# (a body that is not an integer: to_i makes it 0) or never (n < 0) this one
# replies "error: ..." (the text rpcwire's text codec uses for faults).
# Prints "ready" on stdout once consuming; INT/TERM close the connection.
#
# Bunny reads the URL as the AMQP URI spec says: "amqp://host:5672/" (a
# trailing slash) names the empty vhost "" and fails with NOT_ALLOWED -
# vhost not found; write "amqp://host:5672" or "amqp://host:5672/%2F" for "/".

require "bunny"

queue_name = ARGV[0] || "rpc_queue"
url = ARGV[1] || "amqp://guest:guest@127.0.0.1:5672"

def fib(n)
  a, b = 0, 1
  n.times { a, b = b, a + b }
  a
end

def answer(payload)
  text = payload.strip
  return "error: fib wants an integer, got #{text.inspect}" unless text =~ /\A-?\d+\z/
  n = Integer(text, 10)
  return "error: fib(#{n}): n must not be negative" if n < 0
  fib(n).to_s
end

connection = Bunny.new(url, logger: Logger.new($stderr, level: Logger::WARN))
connection.start
channel = connection.create_channel
channel.prefetch(1)
queue = channel.queue(queue_name)
exchange = channel.default_exchange

queue.subscribe(manual_ack: true) do |delivery_info, properties, payload|
  exchange.publish(answer(payload), routing_key: properties.reply_to, correlation_id: properties.correlation_id)
  channel.ack(delivery_info.delivery_tag)
end
$stdout.puts "ready"
$stdout.flush

stop = Queue.new
%w[INT TERM].each { |sig| trap(sig) { stop << sig } }
stop.pop
connection.close
