#!/usr/bin/env ruby
# RabbitMQ tutorial six's RPC client on bunny (the tutorial's rpc_client.rb:
# exclusive server-named reply queue, a correlation id per call, reply_to on
# each request), sending COUNT requests at once instead of one.
#
# usage: ruby rpc_client.rb QUEUE N COUNT [AMQP_URL] [SPREAD]
#        (defaults: AMQP_URL amqp://guest:guest@127.0.0.1:5672, SPREAD 5)
#
# Call i asks fib(N + i % SPREAD) (SPREAD 1: every call asks fib(N)), so a
# reply handed to the wrong call shows. It waits at most 30 s, then prints
# one JSON line:
#   {"sent", "ok", "wrong", "missing", "results": [reply body per call, in
#    call order, a number when it is one, null when missing], "errors": [...]}
# ok counts replies whose correlation id is a pending call's and whose body
# is fib of that call's n; wrong counts the others (unknown or repeated
# correlation id, wrong body). Exit status 0 when ok == sent, else 1; 2 when
# it cannot run.
#
# Bunny reads the URL as the AMQP URI spec says: "amqp://host:5672/" (a
# trailing slash) names the empty vhost "" and fails with NOT_ALLOWED -
# vhost not found; write "amqp://host:5672" or "amqp://host:5672/%2F" for "/".

require "bunny"
require "json"
require "securerandom"

TIMEOUT = 30 # seconds

queue_name, n_arg, count_arg, url, spread_arg = ARGV
begin
  n = Integer(n_arg, 10)
  count = Integer(count_arg, 10)
  spread = Integer(spread_arg || "5", 10)
  raise ArgumentError if queue_name.nil? || count <= 0 || spread <= 0
rescue ArgumentError, TypeError
  warn "usage: ruby rpc_client.rb QUEUE N COUNT [AMQP_URL] [SPREAD]"
  exit 2
end
url ||= "amqp://guest:guest@127.0.0.1:5672"

def fib(k)
  a, b = 0, 1
  k.times { a, b = b, a + b }
  a
end

begin
  connection = Bunny.new(url, logger: Logger.new($stderr, level: Logger::WARN))
  connection.start
  channel = connection.create_channel
  exchange = channel.default_exchange
  reply_queue = channel.queue("", exclusive: true)
rescue StandardError => e
  warn "rpc_client.rb: #{e.class}: #{e.message}"
  exit 2
end

lock = Mutex.new
all_in = ConditionVariable.new
pending = {} # correlation id => call index
results = Array.new(count)
errors = []
ok = 0
wrong = 0

reply_queue.subscribe do |_delivery_info, properties, payload|
  lock.synchronize do
    id = properties.correlation_id
    i = pending.delete(id)
    if i.nil?
      wrong += 1
      errors << "reply with unknown or repeated correlation id #{id.inspect}: #{payload.inspect}"
    else
      results[i] = payload =~ /\A-?\d+\z/ ? Integer(payload, 10) : payload
      want = fib(n + i % spread).to_s
      if payload == want
        ok += 1
      else
        wrong += 1
        errors << "call #{i} fib(#{n + i % spread}): want #{want}, got #{payload.inspect}"
      end
    end
    all_in.signal if pending.empty?
  end
end

lock.synchronize do
  count.times do |i|
    id = SecureRandom.uuid
    pending[id] = i
  end
end
pending.dup.each do |id, i|
  exchange.publish((n + i % spread).to_s, routing_key: queue_name, correlation_id: id, reply_to: reply_queue.name)
end

deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + TIMEOUT
lock.synchronize do
  until pending.empty?
    left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
    break if left <= 0
    all_in.wait(lock, left)
  end
  errors << "#{pending.size} replies missing after #{TIMEOUT} s" unless pending.empty?
  $stdout.puts JSON.generate({ "sent" => count, "ok" => ok, "wrong" => wrong, "missing" => pending.size,
                               "results" => results, "errors" => errors })
  $stdout.flush
end
connection.close
exit(ok == count ? 0 : 1)
