import assert from 'node:assert/strict'
import { copyFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig, parseConfig } from '../../src/config/load.ts'
import { ConfigError } from '../../src/config/problem.ts'
import { TestCa } from '../helpers/certs.ts'

const base = `
pools: { web: { servers: ['127.0.0.1:9000'] } }
routes: [{ pool: web }]
`

function problems(yaml: string): string {
  try {
    parseConfig(yaml, 'portico.yaml', {})
  } catch (err) {
    if (err instanceof ConfigError) return err.message
    throw err
  }
  return ''
}

test('a missing certificate file is named with its place in the config', () => {
  const text = problems(`listeners:
  - address: 127.0.0.1:443
    tls:
      certificates:
        - { cert: /nonexistent/cert.pem, key: /nonexistent/key.pem }
${base}`)
  assert.match(
    text,
    /^portico\.yaml:5:\d+ listeners\[0\]\.tls\.certificates\[0\]\.cert: expected a readable file, found "\/nonexistent\/cert\.pem" \(no such file\)$/m,
  )
  assert.match(text, /listeners\[0\]\.tls\.certificates\[0\]\.key: expected a readable file/)
})

test('TLS settings that cannot work are refused: old versions, redirect on a TLS listener, half a client certificate', (t) => {
  const ca = new TestCa(t)
  const site = ca.issue('localhost', ['localhost'])
  const text = problems(`listeners:
  - address: 127.0.0.1:443
    redirect_https: { port: 443 }
    tls:
      min_version: TLSv1.1
      certificates: [{ cert: ${site.cert}, key: ${site.key} }]
pools:
  web:
    servers: ['127.0.0.1:9000']
    protocol: h3
    tls: { cert: ${site.cert} }
routes: [{ pool: web }]
`)
  assert.match(text, /listeners\[0\]\.tls\.min_version: .*"TLSv1\.2".*"TLSv1\.3"/)
  assert.match(text, /pools\.web\.protocol: .*"http1".*"h2"/)
  assert.match(text, /pools\.web\.tls\.cert: cert and key go together/)
})

test('examples/tls.yaml is a valid config once its certificate files exist', (t) => {
  const ca = new TestCa(t)
  const files: Record<string, { cert: string; key: string }> = {
    'example.com': ca.issue('example.com', ['example.com']),
    'wildcard.example.net': ca.issue('wildcard', ['*.example.net']),
    'portico-client': ca.issue('portico-client'),
  }
  for (const [name, pem] of Object.entries(files)) {
    copyFileSync(pem.cert, join(ca.dir, `${name}.pem`))
    copyFileSync(pem.key, join(ca.dir, `${name}.key`))
  }
  copyFileSync(ca.cert, join(ca.dir, 'internal-ca.pem'))
  const example = new URL('../../examples/tls.yaml', import.meta.url).pathname
  const config = loadConfig(example, { CERTS: ca.dir })
  assert.equal(config.listeners[0]!.tls!.certificates.length, 2)
  assert.equal(config.listeners[1]!.redirect_https!.status, 308)
  assert.equal(config.pools.payments!.tls!.server_name, 'payments.internal')
  assert.ok(readFileSync(example, 'utf8').startsWith('#'))
})
