#!/usr/bin/env ruby
# An XML-RPC client on Ruby's xmlrpc gem (XMLRPC::Client), with the gem's
# default configuration (XMLRPC::Config: no <nil/>, ints limited to 32 bits
# when writing; <i8> is read).
#
# usage: ruby xmlrpc_client.rb URL
#
# Runs every case of ../cases.json and prints one JSON object per line:
#   {"case", "ok", "result", "fault_code", "fault_string", "error"}
# ok is true when the case got what cases.json wants; error is set when the
# call failed other than by a fault (the gem refusing a value before
# sending, an HTTP error, an undecodable reply).
#
# Calls use call2 (a fault comes back as XMLRPC::FaultException); the
# multicall case uses the gem's multicall2, whose per-call results (value or
# FaultException) are shown in the wire's shape: [value] or {faultCode,
# faultString}. Results: a binary (ASCII-8BIT) string, which is how the gem
# returns <base64>, as {"base64": "..."}; XMLRPC::DateTime as {"datetime":
# "YYYYMMDDTHH:MM:SS"}. Exits 0 whatever the cases did; 2 when it cannot run.
require "xmlrpc/client"
require "json"
require "base64"

TIMEOUT = 10 # seconds per call

if ARGV.empty?
  warn "usage: ruby xmlrpc_client.rb URL"
  exit 2
end
url = ARGV[0]
cases = JSON.parse(File.read(File.join(__dir__, "..", "cases.json")))["cases"]

# to_ruby turns a cases.json value into what the gem encodes.
def to_ruby(v)
  case v
  when Hash
    return XMLRPC::Base64.new(Base64.strict_decode64(v["base64"])) if v.keys == ["base64"]
    return XMLRPC::Convert.dateTime(v["datetime"]) if v.keys == ["datetime"]
    v.transform_values { |x| to_ruby(x) }
  when Array then v.map { |x| to_ruby(x) }
  else v
  end
end

# to_json turns a decoded value into JSON terms.
def to_json_term(v)
  case v
  when Hash then v.transform_values { |x| to_json_term(x) }
  when Array then v.map { |x| to_json_term(x) }
  when XMLRPC::DateTime
    { "datetime" => format("%04d%02d%02dT%02d:%02d:%02d", *v.to_a) }
  when XMLRPC::FaultException
    { "faultCode" => v.faultCode, "faultString" => v.faultString }
  when String
    v.encoding == Encoding::BINARY ? { "base64" => Base64.strict_encode64(v) } : v
  else v
  end
end

# same compares JSON terms: numbers by value, hashes in any key order (only
# want's keys when subset), everything else strictly.
def same(want, got, subset)
  if want.is_a?(Numeric) && got.is_a?(Numeric)
    want == got
  elsif want.is_a?(Hash) && got.is_a?(Hash)
    return false if !subset && want.size != got.size
    want.all? { |k, w| got.key?(k) && same(w, got[k], subset) }
  elsif want.is_a?(Array) && got.is_a?(Array)
    want.size == got.size && want.each_index.all? { |i| same(want[i], got[i], subset) }
  else
    want.class == got.class && want == got
  end
end

def run_case(client, c)
  params = c["params"].map { |p| to_ruby(p) }
  if c["method"] == "system.multicall"
    calls = params[0].map { |call| [call["methodName"], *call["params"]] }
    ok, results = client.multicall2(*calls)
    return fault_of(c, results) unless ok
    value = results.map { |r| r.is_a?(XMLRPC::FaultException) ? r : [r] }
  else
    ok, value = client.call2(c["method"], *params)
    return fault_of(c, value) unless ok
  end
  result = to_json_term(value)
  out = { "result" => result }
  out["ok"] =
    if c.key?("want_fault") then false
    elsif c.key?("want_contains") then result.is_a?(Array) && (c["want_contains"] - result).empty?
    else same(c["want"], result, c["subset"])
    end
  out
rescue StandardError => e
  { "ok" => false, "error" => "#{e.class}: #{e.message.lines.first.to_s.chomp}"[0, 400] }
end

def fault_of(c, f)
  { "ok" => f.faultCode == c["want_fault"], "fault_code" => f.faultCode, "fault_string" => f.faultString }
end

client = XMLRPC::Client.new2(url, nil, TIMEOUT)
cases.each do |c|
  out = run_case(client, c)
  line = { "case" => c["case"], "ok" => out["ok"], "result" => out["result"],
           "fault_code" => out["fault_code"], "fault_string" => out["fault_string"], "error" => out["error"] }
  $stdout.puts JSON.generate(line)
  $stdout.flush
end
exit 0
