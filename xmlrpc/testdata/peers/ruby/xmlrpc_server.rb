#!/usr/bin/env ruby
# An XML-RPC server on Ruby's xmlrpc gem (XMLRPC::Server, on WEBrick), with
# the gem's default configuration (XMLRPC::Config: no <nil/>, ints limited to
# 32 bits).
#
# usage: ruby xmlrpc_server.rb PORT   (PORT 0 picks a free port)
#
# Serves fun_add(a, b), fib(n) (n < 0: fault -32602), echo(v), fault(code,
# msg), and the gem's system.listMethods, system.methodSignature,
# system.methodHelp (add_introspection) and system.multicall
# (add_multicall). A fault is the gem's way: raise XMLRPC::FaultException.
# An unknown method is the gem's fault 1, "Method NAME missing or wrong
# number of parameters!".
#
# Listens on 127.0.0.1:PORT, prints "ready PORT" on stdout once listening,
# runs until killed (INT, TERM, HUP stop it). WEBrick logs on stderr.
require "xmlrpc/server"

port = Integer(ARGV[0] || 8080)

def fib(n)
  a, b = 0, 1
  n.times { a, b = b, a + b }
  a
end

# maxConnections 4 is the gem's default; the log goes to stderr.
s = XMLRPC::Server.new(port, "127.0.0.1", 4, $stderr)
s.add_handler("fun_add") { |a, b| a + b }
s.add_handler("fib") do |n|
  raise XMLRPC::FaultException.new(-32602, "fib(#{n}): n must not be negative") if n < 0
  fib(n)
end
s.add_handler("echo") { |v| v }
s.add_handler("fault") { |code, msg| raise XMLRPC::FaultException.new(code, msg) }
s.add_introspection
s.add_multicall

# WEBrick listens from XMLRPC::Server.new on: the port accepts connections now.
$stdout.puts "ready #{s.port}"
$stdout.flush
s.serve
