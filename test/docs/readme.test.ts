import assert from 'node:assert/strict'
import { copyFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse, stringify } from 'yaml'
import { parseConfig } from '../../src/config/load.ts'
import { TestCa } from '../helpers/certs.ts'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const blocks = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!)

// Sections a README example may leave out because it shows another one.
const base = {
  listeners: [{ address: '127.0.0.1:8080' }],
  pools: { web: { servers: ['127.0.0.1:3000'] }, api: { servers: ['127.0.0.1:4000'] } },
  routes: [{ pool: 'web' }],
}

test('every YAML example in the README is a valid config, with the sections it leaves out', (t) => {
  // The TLS example names its certificate files under ${CERTS}: make them.
  const ca = new TestCa(t)
  const pem = ca.issue('example.com', ['example.com'])
  copyFileSync(pem.cert, join(ca.dir, 'example.com.pem'))
  copyFileSync(pem.key, join(ca.dir, 'example.com.key'))
  assert.ok(blocks.length >= 9, `found ${blocks.length} examples`)
  for (const block of blocks) {
    const example = parse(block) as Record<string, unknown>
    const config = stringify({ ...base, ...example, pools: { ...base.pools, ...(example.pools as object) } })
    assert.doesNotThrow(() => parseConfig(config, 'README.md', { APP_SERVER: '10.0.0.5:3000', CERTS: ca.dir }), block)
  }
})
