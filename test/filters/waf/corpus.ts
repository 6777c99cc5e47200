import { type Family, families, payloads, scannerAgents } from './payloads.ts'

/** One request of the corpus, as bytes go on the wire. */
export interface CorpusRequest {
  readonly id: number
  /** An attack family, or "ordinary". */
  readonly family: Family | 'ordinary'
  readonly method: string
  readonly target: string
  readonly headers: readonly (readonly [string, string])[]
  readonly body?: string
}

const browser: [string, string][] = [
  ['Host', 'shop.example.com'],
  ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'],
  ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['Accept-Language', 'en-GB,en;q=0.9'],
  ['Accept-Encoding', 'gzip, deflate, br'],
]

/** Percent-encodes what may not stand raw in a request target, keeping `%` so pre-encoded payloads stay. */
export function looseEncode(s: string): string {
  return s.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]/g, (c) =>
    [...Buffer.from(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  )
}

const enc = encodeURIComponent
const withBody = (type: string, body: string): [string, string][] => [
  ...browser,
  ['Content-Type', type],
  ['Content-Length', String(Buffer.byteLength(body))],
]

/** The seven places a payload goes, and two ways of writing the value. */
function placements(p: string, variant: number): Omit<CorpusRequest, 'id' | 'family'>[] {
  const v = variant === 0 ? p : `note ${p}`
  const boundary = '----portico7MA4YWxkTrZu0gW'
  const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="comment"\r\n\r\n${v}\r\n--${boundary}--\r\n`
  return [
    { method: 'GET', target: `/search?q=${enc(v)}`, headers: browser },
    { method: 'GET', target: `/item?id=${looseEncode(v)}&page=1`, headers: browser },
    {
      method: 'POST',
      target: '/comment',
      headers: withBody('application/x-www-form-urlencoded', `comment=${enc(v)}&submit=Send`),
      body: `comment=${enc(v)}&submit=Send`,
    },
    {
      method: 'POST',
      target: '/api/comments',
      headers: withBody('application/json', JSON.stringify({ comment: v, rating: 4 })),
      body: JSON.stringify({ comment: v, rating: 4 }),
    },
    { method: 'GET', target: '/account', headers: [...browser, ['Cookie', `session=d2VsY29tZQ==; pref=${enc(v)}`]] },
    {
      method: 'GET',
      target: '/landing',
      headers: [...browser, ['Referer', `https://shop.example.com/?from=${enc(v)}`]],
    },
    {
      method: 'POST',
      target: '/upload',
      headers: withBody(`multipart/form-data; boundary=${boundary}`, multipart),
      body: multipart,
    },
  ]
}

const protocolCases: Omit<CorpusRequest, 'id' | 'family'>[] = [
  { method: 'PROPFIND', target: '/', headers: browser },
  { method: 'TRACK', target: '/', headers: browser },
  { method: 'DEBUG', target: '/', headers: browser },
  { method: 'MOVE', target: '/a', headers: browser },
  { method: 'GET', target: '/', headers: [['Host', '127.0.0.1'], ...browser.slice(1)] },
  { method: 'GET', target: '/', headers: browser.filter(([n]) => n !== 'Accept' && n !== 'User-Agent') },
  { method: 'GET', target: '/backup.sql', headers: browser },
  { method: 'GET', target: '/site.bak', headers: browser },
  { method: 'GET', target: '/db.mdb', headers: browser },
  { method: 'GET', target: '/config.ini', headers: browser },
  { method: 'GET', target: '/old.backup', headers: browser },
  { method: 'GET', target: '/.htpasswd', headers: browser },
  { method: 'GET', target: '/', headers: [...browser, ['Proxy', 'http://evil.example']] },
  { method: 'GET', target: '/', headers: [...browser, ['Lock-Token', 'x']] },
  { method: 'GET', target: '/', headers: [...browser, ['Content-Encoding', 'gzip'], ['If', 'x']] },
  { method: 'GET', target: '/?q=%zz', headers: browser },
  { method: 'GET', target: '/?q=a%00b', headers: browser },
  { method: 'GET', target: '/?q=%uff1cscript', headers: browser },
  { method: 'GET', target: '/?lang=en%0d%0aSet-Cookie:%20x=1', headers: browser },
  { method: 'GET', target: '/?x=%0d%0aContent-Length:%200%0d%0a%0d%0aHTTP/1.1%20200%20OK', headers: browser },
  { method: 'POST', target: '/form', headers: withBody('application/x-foo', 'a=1'), body: 'a=1' },
  { method: 'POST', target: '/form', headers: withBody('text/plain; charset=ibm037', 'a=1'), body: 'a=1' },
  { method: 'GET', target: '/', headers: [...browser, ['Range', 'bytes=0-1,2-3,4-5,6-7,8-9,10-11,12-13']] },
  { method: 'GET', target: '/', headers: [...browser, ['Range', 'bytes=5-1']] },
  { method: 'GET', target: '/', headers: [...browser, ['Content-Length', '3']], body: 'a=b' },
  { method: 'GET', target: '/index.php/../../etc', headers: browser },
  { method: 'GET', target: '/?a=1&a=2&a=3&=x', headers: browser },
  { method: 'GET', target: '/', headers: [...browser, ['Accept', '']] },
  { method: 'GET', target: '/', headers: [...browser, ['User-Agent', '']] },
  {
    method: 'OPTIONS',
    target: '/',
    headers: [...browser, ['Content-Type', 'application/x-evil'], ['Content-Length', '0']],
  },
]

const words = [
  'coffee',
  'laptop',
  'garden',
  'shoes',
  'winter',
  'recipe',
  'guitar',
  'bicycle',
  'camera',
  'novel',
  'paint',
  'lamp',
  'travel',
  'kettle',
  'tent',
]
const prose = [
  'Please select a size and drop us a line if it does not fit',
  "I'd like to update my order from last week",
  'Can you delete the old address and insert the new one?',
  'The drop in price made me select the cheaper model',
  "We're open from 9 to 5, or by appointment",
  'Union members get 10% off; select items only',
  'My daughter said: "this is the best thing ever"',
  'Table for two, and a window seat if possible',
  'Where is the shop? Is it near the station & the park?',
  'I ordered 2 items (a mug and a plate) but got 1',
]
const names = [
  "Seán O'Brien",
  "D'Angelo Russell",
  "Miles O'Neil",
  'Zoë Müller',
  'Anne-Marie Duval',
  "Jean-Luc D'Arcy",
  'Li Wei',
  'María José',
]
const searches = [
  'rock and roll',
  'how to select a laptop',
  'drop shipping',
  "O'Reilly books",
  'best coffee near me',
  'c++ tutorial',
  'union station hours',
  'where to buy a table',
  'null pointer exception',
  'script writing course',
  '1 + 1 = 2',
  'what is 50% of 80',
  'cats & dogs',
  'or and not logic',
  'sleep tips for babies',
]

/** A small deterministic generator, so the corpus is the same on every run. */
function prng(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff
    return s / 0x7fffffff
  }
}

/** Ordinary requests a shop or an API sees every day. `methods` adds PUT, PATCH and DELETE ones. */
export function ordinary(count: number, modernMethods: boolean): Omit<CorpusRequest, 'id'>[] {
  const r = prng(7)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!
  const out: Omit<CorpusRequest, 'id'>[] = []
  for (let i = 0; out.length < count; i++) {
    const kind = i % 10
    const cookie = [
      'Cookie',
      `session=${Buffer.from(`user:${i}:${pick(words)}`).toString('base64')}; theme=dark; _ga=GA1.2.${1000 + i}.${2000 + i}`,
    ] as const
    let req: Omit<CorpusRequest, 'id'>
    if (kind === 0)
      req = {
        family: 'ordinary',
        method: 'GET',
        target: `/search?q=${enc(pick(searches))}&page=${i % 5}`,
        headers: [...browser, cookie],
      }
    else if (kind === 1)
      req = {
        family: 'ordinary',
        method: 'GET',
        target: `/api/v1/items?limit=50&sort=-created_at&tag=${pick(words)}`,
        headers: [...browser, cookie],
      }
    else if (kind === 2)
      req = {
        family: 'ordinary',
        method: 'GET',
        target: `/products/${pick(words)}-${i}.html`,
        headers: [...browser, ['Referer', `https://shop.example.com/search?q=${enc(pick(words))}`]],
      }
    else if (kind === 3) {
      const body = JSON.stringify({
        name: pick(names),
        message: pick(prose),
        items: [{ sku: `A-${i}`, qty: 1 + (i % 3) }],
      })
      req = {
        family: 'ordinary',
        method: 'POST',
        target: '/api/v1/orders',
        headers: [...withBody('application/json', body), cookie],
        body,
      }
    } else if (kind === 4) {
      const body = `name=${enc(pick(names))}&email=user${i}%40example.com&message=${enc(pick(prose))}`
      req = {
        family: 'ordinary',
        method: 'POST',
        target: '/contact',
        headers: withBody('application/x-www-form-urlencoded', body),
        body,
      }
    } else if (kind === 5)
      req = { family: 'ordinary', method: 'GET', target: `/static/js/app.${i}.js`, headers: [...browser, cookie] }
    else if (kind === 6) {
      const body = JSON.stringify({
        title: pick(words),
        description: `${pick(prose)}. ${pick(prose)}`,
        price: 10 + i,
        tags: [pick(words), pick(words)],
      })
      const method = modernMethods ? pick(['PUT', 'PATCH']) : 'POST'
      req = {
        family: 'ordinary',
        method,
        target: `/api/v1/products/${i}`,
        headers: [...withBody('application/json', body), cookie],
        body,
      }
    } else if (kind === 7)
      req = {
        family: 'ordinary',
        method: modernMethods ? 'DELETE' : 'GET',
        target: `/api/v1/cart/items/${i}`,
        headers: [...browser, cookie],
      }
    else if (kind === 8)
      req = {
        family: 'ordinary',
        method: 'GET',
        target: `/users/${pick(names).split(' ')[0]!.toLowerCase()}?tab=reviews&from=2024-01-${10 + (i % 18)}`,
        headers: [...browser, cookie],
      }
    else {
      const body = `username=${enc(pick(names))}&password=${enc(`S3cret!${i}x`)}&remember=on`
      req = {
        family: 'ordinary',
        method: 'POST',
        target: '/login',
        headers: withBody('application/x-www-form-urlencoded', body),
        body,
      }
    }
    out.push(req)
  }
  return out
}

/** The attack corpus: every payload in every place, two ways, plus scanners and protocol violations. */
export function attacks(): Omit<CorpusRequest, 'id'>[] {
  const out: Omit<CorpusRequest, 'id'>[] = []
  for (const family of families) {
    if (family === 'scanner' || family === 'protocol') continue
    for (const p of payloads[family])
      for (const variant of [0, 1]) for (const req of placements(p, variant)) out.push({ family, ...req })
  }
  for (const agent of scannerAgents) {
    const headers = browser.map(([n, v]) => [n, n === 'User-Agent' ? agent : v] as [string, string])
    out.push({ family: 'scanner', method: 'GET', target: '/', headers })
    out.push({ family: 'scanner', method: 'GET', target: '/wp-login.php', headers })
    out.push({ family: 'scanner', method: 'GET', target: `/search?q=${enc(pick2(agent))}`, headers })
  }
  for (const c of protocolCases) {
    out.push({ family: 'protocol', ...c })
    out.push({ family: 'protocol', ...c, target: c.target.replace('/', '/v2/') })
  }
  return out
}

function pick2(s: string): string {
  return s.split(/[ /]/)[0]!
}

/** The whole corpus with ids: attacks first, then `ordinaryCount` ordinary requests. */
export function corpus(ordinaryCount: number, modernMethods = false): CorpusRequest[] {
  return [...attacks(), ...ordinary(ordinaryCount, modernMethods)].map((r, id) => ({ ...r, id }))
}

/** The request as bytes for a raw socket: HTTP/1.1, the headers as given, the body if any. */
export function wire(r: CorpusRequest): Buffer {
  const head = `${r.method} ${r.target} HTTP/1.1\r\n${r.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(r.body ?? '', 'utf8')])
}
