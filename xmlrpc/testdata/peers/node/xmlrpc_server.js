#!/usr/bin/env node
// An XML-RPC server on npm's xmlrpc package (xmlrpc.createServer).
//
// usage: node xmlrpc_server.js PORT   (PORT 0 picks a free port)
//
// Serves fun_add(a, b), fib(n) (n < 0: fault -32602), echo(v) and
// fault(code, msg). The package has no system.listMethods or
// system.multicall: they are unknown methods here. A fault is the package's
// way: the handler calls back with an object, which is written as the fault
// struct ({faultCode, faultString}; an Error object would be written as an
// empty struct). An unknown method gets HTTP 404 with an empty body, as
// does a request the package cannot parse.
//
// Listens on 127.0.0.1:PORT, prints "ready PORT" on stdout once listening,
// runs until killed. Unknown methods are logged on stderr.
'use strict'
const xmlrpc = require('xmlrpc')

const port = Number(process.argv[2] || 8080)

function fib (n) {
  let a = 0
  let b = 1
  for (let i = 0; i < n; i++) [a, b] = [b, a + b]
  return a
}

const server = xmlrpc.createServer({ host: '127.0.0.1', port }, () => {
  process.stdout.write(`ready ${server.httpServer.address().port}\n`)
})
server.httpServer.on('error', (err) => {
  process.stderr.write(`listen: ${err.message}\n`)
  process.exit(1)
})

server.on('fun_add', (err, params, callback) => callback(null, params[0] + params[1]))
server.on('fib', (err, params, callback) => {
  const n = params[0]
  if (n < 0) return callback({ faultCode: -32602, faultString: `fib(${n}): n must not be negative` })
  callback(null, fib(n))
})
server.on('echo', (err, params, callback) => callback(null, params[0]))
server.on('fault', (err, params, callback) => callback({ faultCode: params[0], faultString: params[1] }))
server.on('NotFound', (method) => process.stderr.write(`unknown method ${JSON.stringify(method)}\n`))

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0))
