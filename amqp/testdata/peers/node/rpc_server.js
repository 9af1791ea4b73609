#!/usr/bin/env node
// RabbitMQ tutorial six's RPC server on amqplib (the package's own
// examples/tutorials/rpc_server.js), with the queue and broker from argv.
//
// usage: node rpc_server.js [QUEUE] [AMQP_URL]
//        (defaults rpc_queue, amqp://guest:guest@127.0.0.1:5672/)
//
// Declares QUEUE as the tutorial does (durable: false, not exclusive, not
// auto-delete: it stays after the server stops), prefetch 1, and for each
// request whose body is an integer n replies str(fib(n)) to reply_to with
// the request's correlation_id, then acks. fib is the tutorial's iterative
// one on JS numbers (exact up to fib(78)). Where the tutorial would answer
// nonsense (a body that is not an integer, or n < 0) this one replies
// "error: ..." (the text rpcwire's text codec uses for faults) and acks.
// Prints "ready" on stdout once consuming; SIGINT/SIGTERM close the
// connection and exit 0.
//
// amqplib leaves Nagle's algorithm on by default (connect option noDelay:
// false). With prefetch 1 that costs ~45 ms a call here (200 calls: 9.2 s;
// 0.5 s with noDelay), as the reply and the ack wait for the client's
// delayed TCP ack. Kept as the tutorial has it; AMQP_NODELAY=1 in the
// environment sets noDelay: true.
'use strict'
const amqp = require('amqplib')

const queue = process.argv[2] || 'rpc_queue'
const url = process.argv[3] || 'amqp://guest:guest@127.0.0.1:5672/'

function fib (n) {
  let a = 0
  let b = 1
  for (let i = 0; i < n; i++) {
    const c = a + b
    a = b
    b = c
  }
  return a
}

function answer (body) {
  const text = body.toString().trim()
  if (!/^-?\d+$/.test(text)) return `error: fib wants an integer, got ${JSON.stringify(text)}`
  const n = parseInt(text, 10)
  if (n < 0) return `error: fib(${n}): n must not be negative`
  return fib(n).toString()
}

async function main () {
  const connection = await amqp.connect(url, { noDelay: process.env.AMQP_NODELAY === '1' })
  const channel = await connection.createChannel()
  let stopping = false
  const stop = async () => {
    stopping = true
    try { await connection.close() } catch (_) {}
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  connection.on('error', (err) => process.stderr.write(`connection error: ${err.message}\n`))
  connection.on('close', () => {
    if (stopping) return
    process.stderr.write('connection closed\n')
    process.exit(1)
  })

  await channel.assertQueue(queue, { durable: false })
  await channel.prefetch(1)
  await channel.consume(queue, (message) => {
    if (message === null) { // consumer cancelled by the broker (queue deleted)
      process.stderr.write('consumer cancelled\n')
      process.exit(1)
    }
    const response = answer(message.content)
    channel.sendToQueue(message.properties.replyTo, Buffer.from(response), {
      correlationId: message.properties.correlationId
    })
    channel.ack(message)
  })
  process.stdout.write('ready\n')
}

main().catch((err) => {
  process.stderr.write(`rpc_server.js: ${err.stack || err}\n`)
  process.exit(1)
})
