#!/usr/bin/env node
// RabbitMQ tutorial six's RPC client on amqplib (the package's own
// examples/tutorials/rpc_client.js: exclusive server-named reply queue,
// consumed noAck, a correlation id per call, reply_to on each request),
// sending COUNT requests at once instead of one.
//
// usage: node rpc_client.js QUEUE N COUNT [AMQP_URL] [SPREAD]
//        (defaults: AMQP_URL amqp://guest:guest@127.0.0.1:5672/, SPREAD 5)
//
// Call i asks fib(N + i % SPREAD) (SPREAD 1: every call asks fib(N)), so a
// reply handed to the wrong call shows. Unlike the tutorial client it does
// not declare QUEUE (it publishes to whatever server declared it). It waits
// at most 30 s, then prints one JSON line:
//   {"sent", "ok", "wrong", "missing", "results": [reply body per call, in
//    call order, a number when it is one, null when missing], "errors": [...]}
// ok counts replies whose correlation id is a pending call's and whose body
// is fib of that call's n; wrong counts the others (unknown or repeated
// correlation id, wrong body). Exit status 0 when ok == sent, else 1; 2 when
// it cannot run.
'use strict'
const amqp = require('amqplib')
const crypto = require('crypto')

const TIMEOUT_MS = 30000

const [queue, nArg, countArg, urlArg, spreadArg] = process.argv.slice(2)
const n = parseInt(nArg, 10)
const count = parseInt(countArg, 10)
const url = urlArg || 'amqp://guest:guest@127.0.0.1:5672/'
const spread = spreadArg === undefined ? 5 : parseInt(spreadArg, 10)
if (!queue || Number.isNaN(n) || !(count > 0) || !(spread > 0)) {
  process.stderr.write('usage: node rpc_client.js QUEUE N COUNT [AMQP_URL] [SPREAD]\n')
  process.exit(2)
}

function fib (k) {
  let a = 0
  let b = 1
  for (let i = 0; i < k; i++) [a, b] = [b, a + b]
  return a
}

function asValue (text) {
  return /^-?\d+$/.test(text) ? Number(text) : text
}

async function main () {
  const connection = await amqp.connect(url)
  const channel = await connection.createChannel()
  const { queue: replyTo } = await channel.assertQueue('', { exclusive: true })

  const pending = new Map() // correlation id -> call index
  const results = new Array(count).fill(null)
  const errors = []
  let ok = 0
  let wrong = 0
  let done
  const finished = new Promise((resolve) => { done = resolve })

  await channel.consume(replyTo, (message) => {
    if (message === null) {
      errors.push('reply consumer cancelled')
      return done()
    }
    const id = message.properties.correlationId
    const body = message.content.toString()
    if (!pending.has(id)) {
      wrong++
      errors.push(`reply with unknown or repeated correlation id ${JSON.stringify(id)}: ${JSON.stringify(body)}`)
      return
    }
    const i = pending.get(id)
    pending.delete(id)
    results[i] = asValue(body)
    const want = String(fib(n + (i % spread)))
    if (body === want) ok++
    else {
      wrong++
      errors.push(`call ${i} fib(${n + (i % spread)}): want ${want}, got ${JSON.stringify(body)}`)
    }
    if (pending.size === 0) done()
  }, { noAck: true })

  for (let i = 0; i < count; i++) {
    const correlationId = crypto.randomUUID()
    pending.set(correlationId, i)
    channel.sendToQueue(queue, Buffer.from(String(n + (i % spread))), { correlationId, replyTo })
  }
  const timer = setTimeout(() => {
    errors.push(`${pending.size} replies missing after ${TIMEOUT_MS} ms`)
    done()
  }, TIMEOUT_MS)
  await finished
  clearTimeout(timer)
  const missing = pending.size
  process.stdout.write(JSON.stringify({ sent: count, ok, wrong, missing, results, errors }) + '\n')
  await connection.close()
  return ok === count ? 0 : 1
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`rpc_client.js: ${err.stack || err}\n`)
  process.exit(2)
})
