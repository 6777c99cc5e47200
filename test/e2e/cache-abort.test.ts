import assert from 'node:assert/strict'
import { once } from 'node:events'
import { request as httpRequest, type ServerResponse } from 'node:http'
import { test } from 'node:test'
import { storesWithoutClient } from '../../src/cache/outlive-client.ts'
import { cachedSetup } from '../cache/counting-backend.ts'
import { get } from '../helpers/http.ts'

// A body whose every byte says where it is, so that a store missing or repeating a chunk shows.
const body = Buffer.alloc(256 * 1024)
for (let i = 0; i < body.length; i++) body[i] = i % 251
const half = body.length / 2

/**
 * A backend that sends the head and the first half of `body` to its first request, then waits
 * for the test to write the rest to `first()`; later requests get the whole body at once.
 * Without `length`, the body is chunked.
 */
function slowBackend(length = true) {
  const held: ServerResponse[] = []
  let sent: () => void = () => {}
  const firstHalfSent = new Promise<void>((resolve) => (sent = resolve))
  const handler = (_req: unknown, res: ServerResponse, n: number) => {
    res.writeHead(200, {
      'cache-control': 'max-age=600',
      'content-type': 'text/plain',
      ...(length ? { 'content-length': String(body.length) } : {}),
    })
    if (n > 1) {
      res.end(body)
      return
    }
    res.write(body.subarray(0, half))
    held.push(res)
    sent()
  }
  return { handler, firstHalfSent, first: () => held[0]! }
}

/** Starts a GET that accepts gzip and leaves as soon as the first body bytes arrive; resolves with the answer's coding. */
async function leaveAfterFirstBytes(url: string): Promise<string | undefined> {
  const req = httpRequest(url, { agent: false, headers: { 'accept-encoding': 'gzip' } })
  req.on('error', () => {})
  req.end()
  const [res] = await once(req, 'response')
  await once(res, 'data')
  req.destroy()
  return res.headers['content-encoding']
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve))
}

for (const [what, route] of [
  ['', {}],
  [' (its answer compressed on the way)', { compression: { codings: ['gzip'] } }],
] as const) {
  test(`a client that leaves mid-body does not stop the store: the next request is a hit with every byte${what}`, async (t) => {
    const slow = slowBackend()
    const { proxy, count } = await cachedSetup(t, slow.handler, {}, route)
    const coding = await leaveAfterFirstBytes(`${proxy.url}/big`)
    assert.equal(coding, 'compression' in route ? 'gzip' : undefined)
    await until(() => storesWithoutClient() === 1)
    // Only now, with the client gone, does the backend send the rest.
    slow.first().end(body.subarray(half))
    const next = await fetch(`${proxy.url}/big`, { headers: { 'accept-encoding': 'identity' } })
    assert.match(next.headers.get('cache-status')!, /hit/)
    assert.ok(Buffer.from(await next.arrayBuffer()).equals(body))
    assert.equal(count(), 1)
    await until(() => storesWithoutClient() === 0)
  })
}

test('with store_after_client_abort off, a client that leaves stops the backend request and nothing is stored', async (t) => {
  const slow = slowBackend()
  const { proxy, count } = await cachedSetup(t, slow.handler, { store_after_client_abort: false })
  const leaving = leaveAfterFirstBytes(`${proxy.url}/big`)
  await slow.firstHalfSent
  const cut = once(slow.first(), 'close')
  await leaving
  await cut
  assert.equal(slow.first().writableFinished, false)
  const next = await get(`${proxy.url}/big`)
  assert.match(next.headers['cache-status'] as string, /fwd=uri-miss/)
  assert.equal(count(), 2)
})

test('a store without its client stops the backend request once the body passes max_object_size', async (t) => {
  // Chunked: a declared length over the limit would not be stored at all.
  const slow = slowBackend(false)
  const { proxy, count } = await cachedSetup(t, slow.handler, { max_object_size: '192KiB' })
  await leaveAfterFirstBytes(`${proxy.url}/big`)
  await until(() => storesWithoutClient() === 1)
  const cut = once(slow.first(), 'close')
  slow.first().write(body.subarray(half))
  await cut
  await until(() => storesWithoutClient() === 0)
  assert.match((await get(`${proxy.url}/big`)).headers['cache-status'] as string, /fwd=uri-miss/)
  assert.equal(count(), 2)
})

test('a store without its client is dropped when the backend fails before the end', async (t) => {
  const slow = slowBackend()
  const { proxy, count } = await cachedSetup(t, slow.handler)
  await leaveAfterFirstBytes(`${proxy.url}/big`)
  await until(() => storesWithoutClient() === 1)
  slow.first().socket!.destroy()
  await until(() => storesWithoutClient() === 0)
  const next = await fetch(`${proxy.url}/big`)
  assert.match(next.headers.get('cache-status')!, /fwd=uri-miss/)
  assert.ok(Buffer.from(await next.arrayBuffer()).equals(body))
  assert.equal(count(), 2)
})
