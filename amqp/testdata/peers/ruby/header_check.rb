#!/usr/bin/env ruby
# How bunny (amq-protocol) reads a negative integer in a message header,
# by the header's AMQP field type: I (signed 32-bit) and l (signed 64-bit).
#
# usage: ruby header_check.rb [QUEUE] [AMQP_URL]
#        (AMQP_URL default amqp://guest:guest@127.0.0.1:5672; no trailing
#        slash, see rpc_server.rb)
#
# l: publishes a message with header x-fault-code => -32602 to its own
#    exclusive server-named queue (amq-protocol writes every Ruby Integer as
#    l) and reads it back.
# I: with QUEUE, sends the text request "-1" to an rpcwire server there
#    (examples/server -listen 'amqp://...?queue=QUEUE&method=fib') and reads
#    the fault reply's x-fault-code, which rpcwire writes as int32 (I).
# Prints one JSON line: {"l": {"value", "class"}, "I": {...} or null}. The
# AMQP 0-9-1 errata (RabbitMQ's) has I as signed; amq-protocol 2.3.2 decodes
# it with unpack("N"), unsigned: -32602 reads as 4294934694. Exit 0 when
# both read -32602, 1 otherwise, 2 when it cannot run.
require "bunny"
require "json"
require "securerandom"

queue_name = ARGV[0]
url = ARGV[1] || "amqp://guest:guest@127.0.0.1:5672"

connection = Bunny.new(url, logger: Logger.new($stderr, level: Logger::WARN))
begin
  connection.start
rescue StandardError => e
  warn "header_check.rb: #{e.class}: #{e.message}"
  exit 2
end
channel = connection.create_channel
own = channel.queue("", exclusive: true)
replies = Queue.new
own.subscribe { |_info, properties, payload| replies << [properties, payload] }

def wait_reply(replies, id, seconds)
  deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
  loop do
    left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
    return nil if left <= 0
    begin
      props, payload = replies.pop(true) # Ruby 3.1's Queue#pop has no timeout
    rescue ThreadError # empty
      sleep 0.02
      next
    end
    return [props, payload] if props.correlation_id == id
  end
end

def report(props, payload)
  v = props.headers && props.headers["x-fault-code"]
  { "value" => v, "class" => v.class.name, "body" => payload }
end

out = {}
id = SecureRandom.uuid
channel.default_exchange.publish("l", routing_key: own.name, correlation_id: id, headers: { "x-fault-code" => -32602 })
props, payload = wait_reply(replies, id, 10)
out["l"] = props ? report(props, payload) : nil

out["I"] = nil
if queue_name
  id = SecureRandom.uuid
  channel.default_exchange.publish("-1", routing_key: queue_name, correlation_id: id, reply_to: own.name)
  props, payload = wait_reply(replies, id, 10)
  out["I"] = props ? report(props, payload) : { "error" => "no reply from #{queue_name} within 10 s" }
end

$stdout.puts JSON.generate(out)
connection.close
good = out.values.compact.all? { |r| r["value"] == -32602 }
exit(good ? 0 : 1)
