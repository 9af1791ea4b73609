#!/usr/bin/env node
// An XML-RPC client on npm's xmlrpc package (xmlrpc.createClient,
// client.methodCall).
//
// usage: node xmlrpc_client.js URL
//
// Runs every case of ../cases.json, one call after the other, and prints one
// JSON object per line:
//   {"case", "ok", "result", "fault_code", "fault_string", "error"}
// ok is true when the case got what cases.json wants; error is set when the
// call failed other than by a fault (HTTP 404, an undecodable reply, no
// answer within 10 s).
//
// Values: tagged params become a Buffer (base64) and a Date (datetime, read
// by the package's own dateFormatter: a time without zone is local time).
// Results: a Buffer as {"base64": "..."}, a Date as {"datetime": the
// package's own encoding of it, local time without zone}; <i8> comes back
// as a string, as the package returns it. The package has no multicall
// helper: the multicall case calls system.multicall with the array of
// structs. Exits 0 whatever the cases did; 2 when it cannot run.
'use strict'
const fs = require('fs')
const path = require('path')
const xmlrpc = require('xmlrpc')

const TIMEOUT_MS = 10000

if (process.argv.length < 3) {
  process.stderr.write('usage: node xmlrpc_client.js URL\n')
  process.exit(2)
}
const url = process.argv[2]
const cases = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cases.json'), 'utf8')).cases

function isTagged (v, key) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) &&
    Object.keys(v).length === 1 && key in v
}

// toNode turns a cases.json value into what the package encodes.
function toNode (v) {
  if (isTagged(v, 'base64')) return Buffer.from(v.base64, 'base64')
  if (isTagged(v, 'datetime')) return xmlrpc.dateFormatter.decodeIso8601(v.datetime)
  if (Array.isArray(v)) return v.map(toNode)
  if (v !== null && typeof v === 'object') {
    const o = {}
    for (const k of Object.keys(v)) o[k] = toNode(v[k])
    return o
  }
  return v
}

// toJSONTerm turns a decoded value into JSON terms.
function toJSONTerm (v) {
  if (Buffer.isBuffer(v)) return { base64: v.toString('base64') }
  if (v instanceof Date) return { datetime: xmlrpc.dateFormatter.encodeIso8601(v) }
  if (Array.isArray(v)) return v.map(toJSONTerm)
  if (v !== null && typeof v === 'object') {
    const o = {}
    for (const k of Object.keys(v)) o[k] = toJSONTerm(v[k])
    return o
  }
  return v === undefined ? null : v
}

// same compares JSON terms: objects in any key order (only want's keys when
// subset), everything else strictly (JS numbers have one type).
function same (want, got, subset) {
  if (Array.isArray(want) || Array.isArray(got)) {
    return Array.isArray(want) && Array.isArray(got) && want.length === got.length &&
      want.every((w, i) => same(w, got[i], subset))
  }
  if (want !== null && got !== null && typeof want === 'object' && typeof got === 'object') {
    const wk = Object.keys(want)
    if (!subset && wk.length !== Object.keys(got).length) return false
    return wk.every((k) => Object.prototype.hasOwnProperty.call(got, k) && same(want[k], got[k], subset))
  }
  return want === got
}

function call (client, method, params) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ err: new Error(`no answer within ${TIMEOUT_MS} ms`) }), TIMEOUT_MS)
    try {
      client.methodCall(method, params, (err, value) => {
        clearTimeout(timer)
        resolve({ err, value })
      })
    } catch (err) { // the package failed to encode the call
      clearTimeout(timer)
      resolve({ err })
    }
  })
}

async function runCase (client, c) {
  const { err, value } = await call(client, c.method, c.params.map(toNode))
  if (err) {
    if (err.faultCode !== undefined) {
      return { ok: err.faultCode === c.want_fault, fault_code: err.faultCode, fault_string: err.faultString }
    }
    let msg = err.message
    if (err.res) msg = `HTTP ${err.res.statusCode} ${err.res.statusMessage}: ${msg}` + (err.body ? `: ${String(err.body).slice(0, 200)}` : '')
    return { ok: false, error: msg }
  }
  const result = toJSONTerm(value)
  let ok
  if ('want_fault' in c) ok = false
  else if ('want_contains' in c) ok = Array.isArray(result) && c.want_contains.every((w) => result.includes(w))
  else ok = same(c.want, result, !!c.subset)
  return { ok, result }
}

async function main () {
  const client = xmlrpc.createClient(url)
  for (const c of cases) {
    const out = await runCase(client, c)
    const line = {
      case: c.case,
      ok: out.ok,
      result: out.result === undefined ? null : out.result,
      fault_code: out.fault_code === undefined ? null : out.fault_code,
      fault_string: out.fault_string === undefined ? null : out.fault_string,
      error: out.error === undefined ? null : out.error
    }
    process.stdout.write(JSON.stringify(line) + '\n')
  }
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`xmlrpc_client.js: ${err.stack}\n`)
  process.exit(2)
})
