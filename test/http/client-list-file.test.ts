import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseConfig } from '../../src/config/load.ts'
import { readClientListFile } from '../../src/http/client-list-file.ts'
import { ClientRules } from '../../src/http/client-rules.ts'
import { get, rawHttp } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

function listFile(lines: readonly string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'portico-list-')), 'list.txt')
  writeFileSync(file, `${lines.join('\n')}\n`)
  return file
}

/** `count` distinct ranges, half IPv4 /24s (10.x.y.0/24, …), half IPv6 /48s; none holds 127.0.0.1 or 192.0.2.1. */
function manyRanges(count: number): string[] {
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) out.push(`${10 + ((i >> 16) & 0x3f)}.${(i >> 8) & 0xff}.${i & 0xff}.0/24`)
    else out.push(`2001:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/48`)
  }
  return out
}

test('a list file takes addresses, CIDRs and countries, one a line, with comments and blank lines', () => {
  const file = listFile(['# blocklist', '', '203.0.113.7', '  198.51.100.0/24  # a range', '2001:db8::/32', 'KP', ''])
  assert.deepEqual(readClientListFile(file), { entries: ['203.0.113.7', '198.51.100.0/24', '2001:db8::/32', 'KP'] })
})

test('a bad line or a missing file fails the config, naming the file and the line', () => {
  const bad = listFile(['10.0.0.0/8', '10.0.0.0/33'])
  const yaml = `listeners:
  - address: 127.0.0.1:8080
    clients:
      deny_files: [${bad}]
pools: {}
routes:
  - respond: { body: hi }
    clients:
      allow_files: [/nonexistent/allow.txt]
`
  assert.throws(
    () => parseConfig(yaml, 'portico.yaml', {}),
    (err: Error) => {
      assert.equal(
        err.message,
        [
          `portico.yaml:4:20 listeners[0].clients.deny_files[0]: "${bad}" line 2: expected an IP address, a CIDR such as "10.0.0.0/8" or a country code such as "DE", found "10.0.0.0/33"`,
          'portico.yaml:9:21 routes[0].clients.allow_files[0]: cannot read "/nonexistent/allow.txt": ENOENT',
        ].join('\n'),
      )
      return true
    },
  )
})

test('100,000 CIDRs from a file load in under a second', () => {
  const file = listFile(manyRanges(100_000))
  const yaml = `listeners: [{ address: "127.0.0.1:8080" }]\npools: {}\nroutes:\n  - respond: { body: hi }\n    clients:\n      deny_files: [${file}]\n`
  // The best of three, so that a busy machine does not decide.
  let best = Infinity
  for (let i = 0; i < 3; i++) {
    const start = performance.now()
    const config = parseConfig(yaml, 'portico.yaml', {})
    const rules = new ClientRules(config.routes[0]!.clients!)
    best = Math.min(best, performance.now() - start)
    assert.equal(rules.admits('10.0.2.77', ''), false)
    assert.equal(rules.admits('192.0.2.1', ''), true)
  }
  assert.ok(best < 1000, `loaded in ${best.toFixed(0)} ms`)
})

test('a route whose deny file holds the client answers 403, one whose allow file holds it serves it', async (t) => {
  const p = await startPortico(t, {
    pools: {},
    routes: [
      { match: { path: '/in' }, respond: { body: 'in' }, clients: { allow_files: [listFile(['127.0.0.0/8'])] } },
      { respond: { body: 'out' }, clients: { deny: ['192.0.2.1'], deny_files: [listFile(['::1', '127.0.0.1'])] } },
    ],
  })
  assert.equal((await get(`${p.url}/in`)).body, 'in')
  assert.equal((await get(`${p.url}/other`)).status, 403)
})

test('a listener whose deny file holds the client closes its connections unanswered', async (t) => {
  const p = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', clients: { deny_files: [listFile(['# local', '127.0.0.0/8'])] } }],
    pools: {},
    routes: [{ respond: { body: 'hi' } }],
  })
  assert.equal(await rawHttp(p.url, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'), '')
})
