import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { Exchange } from '../../src/exchange.ts'
import { type AccessLog, fields, openAccessLog, type Rejection } from '../../src/log/access.ts'

const page = readFileSync(new URL('../../docs/logging.md', import.meta.url), 'utf8')
// Table rows: | `field` | meaning |
const documented = [...page.matchAll(/^\|\s*`(\w+)`\s*\|[^|]+\|\s*$/gm)].map((m) => m[1]!)
// The sentence that lists the fields of a refused request's line.
const refused = /Its line has only ([^.]+)\./.exec(page)?.[1] ?? ''
const rejectionFields = [...refused.matchAll(/`(\w+)`/g)].map((m) => m[1]!)

/** An exchange that has been everywhere: TLS, geo, a queue, a retry, both bodies buffered and spilled. */
const everything = {
  id: 'id-1',
  trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' },
  clientAddress: '203.0.113.7',
  country: 'NL',
  req: { method: 'POST' },
  host: 'app.example',
  path: '/cart',
  status: 200,
  bytesIn: 5,
  bytesOut: 7,
  start: performance.now(),
  route: { name: 'shop' },
  pool: { name: 'web' },
  server: { address: '10.0.0.5:3000' },
  backendMs: 2,
  backendHeldMs: 3,
  requestBuffered: true,
  responseBuffered: true,
  spilledBytes: 9,
  attempts: 2,
  queueMs: 1,
  queueDepth: 4,
  retried: 'backend_refused',
  outcome: 'ok',
  tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', sni: 'app.example', alpn: 'h2', clientSubject: 'CN=c' },
} as unknown as Exchange

/** The keys of the JSON line the access log writes for `entry`, pino's own included. */
async function lineKeys(entry: (log: AccessLog) => void): Promise<string[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'portico-log-')), 'access.log')
  const log = openAccessLog({ output: file, format: 'json' })
  entry(log)
  await log.close()
  return Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object)
}

test('docs/logging.md documents every access log field, and only fields that exist', async () => {
  const written = await lineKeys((log) => log.write(everything))
  const all = new Set([...written, ...Object.keys(fields(everything))])
  assert.deepEqual([...documented].sort(), [...all].sort())
})

test('docs/logging.md names the fields of a request refused before it became an exchange', async () => {
  const rejection: Rejection = { id: 'id-2', client: '203.0.113.7', status: 400, outcome: 'bad_request' }
  const written = await lineKeys((log) => log.reject(rejection))
  assert.deepEqual([...rejectionFields].sort(), written.sort())
})
