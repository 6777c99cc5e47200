import { urlDecode } from './transforms.ts'
import { parseXml } from './xml.ts'

/** A name and a value, both byte strings (one char per byte). */
export type Pair = readonly [string, string]

/** What the firewall inspects of one request, read once. */
export interface RequestInput {
  readonly method: string
  /** The request target as sent (`/path?query`). */
  readonly target: string
  /** `HTTP/1.1`, `HTTP/2.0`… */
  readonly protocol: string
  /** Header names and values in arrival order. */
  readonly headers: readonly Pair[]
  readonly remoteAddr: string
  /** The first bytes of the body, up to the inspection limit; undefined when there is none. */
  readonly body: Buffer | undefined
}

/** The request as the rule language's variables see it. */
export interface RequestData {
  readonly method: string
  readonly uri: string
  readonly protocol: string
  readonly requestLine: string
  readonly queryString: string
  /** The path, URL-decoded (REQUEST_FILENAME). */
  readonly filename: string
  readonly basename: string
  readonly headers: readonly Pair[]
  readonly cookies: readonly Pair[]
  readonly argsGet: readonly Pair[]
  readonly argsPost: readonly Pair[]
  readonly files: readonly Pair[]
  readonly partHeaders: readonly Pair[]
  /** `XML:/*` (the document's text) and `XML://@*` (each attribute value) of an XML body. */
  readonly xml: readonly Pair[]
  readonly body: string
  readonly bodyProcessor: string
  readonly bodyError: string
  readonly remoteAddr: string
}

const wide = /[\u0100-\uffff]/

/** Splits `a=1&b=2` into decoded pairs, as ModSecurity's URL-encoded parser does. */
export function parseUrlencoded(text: string): Pair[] {
  const out: Pair[] = []
  if (text === '') return out
  for (const part of text.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    if (eq === -1) out.push([urlDecode(part), ''])
    else out.push([urlDecode(part.slice(0, eq)), urlDecode(part.slice(eq + 1))])
  }
  return out
}

function parseCookies(headers: readonly Pair[]): Pair[] {
  const out: Pair[] = []
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'cookie') continue
    for (const part of value.split(';')) {
      const p = part.trimStart()
      if (p === '') continue
      const eq = p.indexOf('=')
      out.push(eq === -1 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)])
    }
  }
  return out
}

/** Flattens JSON into `json.a.b` names, arrays as `json.list.array_0`, as ModSecurity names them. */
function flattenJson(value: unknown, name: string, out: Pair[], depth: number): void {
  if (depth > 64) return
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) flattenJson(value[i], `${name}.array_${i}`, out, depth + 1)
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flattenJson(v, `${name}.${k}`, out, depth + 1)
  } else {
    // Names and values back to bytes: JSON.parse gave UTF-16 text.
    const text = value === null ? '' : String(value)
    out.push([Buffer.from(name, 'utf8').toString('latin1'), Buffer.from(text, 'utf8').toString('latin1')])
  }
}

interface Multipart {
  args: Pair[]
  files: Pair[]
  headers: Pair[]
  error: string
}

function parseMultipart(body: string, boundary: string): Multipart {
  const out: Multipart = { args: [], files: [], headers: [], error: '' }
  const parts = body.split(`--${boundary}`)
  if (parts.length < 2) out.error = 'multipart: no boundary found'
  for (const raw of parts.slice(1)) {
    if (raw.startsWith('--')) break
    const part = raw.replace(/^\r?\n/, '')
    const split = part.search(/\r?\n\r?\n/)
    if (split === -1) continue
    const head = part.slice(0, split)
    const value = part
      .slice(split)
      .replace(/^\r?\n\r?\n/, '')
      .replace(/\r?\n$/, '')
    let name = ''
    let filename: string | undefined
    for (const line of head.split(/\r?\n/)) {
      out.headers.push(['MULTIPART_PART_HEADERS', line])
      if (/^content-disposition:/i.test(line)) {
        name = /\bname="([^"]*)"/i.exec(line)?.[1] ?? name
        filename = /\bfilename="([^"]*)"/i.exec(line)?.[1] ?? filename
      }
    }
    if (filename !== undefined) out.files.push([name, filename])
    else out.args.push([name, value])
  }
  return out
}

/** Reads the variables' sources out of a request: query, cookies, and a body decoded by its type. */
export function requestData(input: RequestInput): RequestData {
  const target = input.target
  const q = target.indexOf('?')
  const rawPath = q === -1 ? target : target.slice(0, q)
  const queryString = q === -1 ? '' : target.slice(q + 1)
  const filename = urlDecode(rawPath.replaceAll('+', '%2B'))
  // Header values are byte strings already, unless a char above 0xff came in (HTTP/2): that keeps its low byte.
  const headers = input.headers.some(([, v]) => wide.test(v))
    ? input.headers.map(([n, v]) => [n, Buffer.from(v, 'latin1').toString('latin1')] as Pair)
    : input.headers
  const type = headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? ''
  const body = input.body ? input.body.toString('latin1') : ''
  let argsPost: Pair[] = []
  let files: Pair[] = []
  let partHeaders: Pair[] = []
  let xml: Pair[] = []
  let bodyProcessor = ''
  let bodyError = ''
  if (input.body && input.body.length > 0) {
    const t = type.toLowerCase()
    if (t.startsWith('application/x-www-form-urlencoded')) {
      bodyProcessor = 'URLENCODED'
      argsPost = parseUrlencoded(body)
    } else if (t.startsWith('multipart/form-data')) {
      bodyProcessor = 'MULTIPART'
      const boundary = /boundary=("?)([^";,]+)\1/i.exec(type)?.[2]
      if (boundary) {
        const m = parseMultipart(body, boundary)
        argsPost = m.args
        files = m.files
        partHeaders = m.headers
        bodyError = m.error
      } else bodyError = 'multipart: no boundary'
    } else if (/^(?:application\/(?:soap\+|[\w.-]+\+)?|text\/)xml/.test(t)) {
      bodyProcessor = 'XML'
      const parsed = parseXml(body)
      xml = parsed.pairs
      bodyError = parsed.error
    } else if (/^application\/(?:[\w.+-]+\+)?json/.test(t)) {
      bodyProcessor = 'JSON'
      try {
        flattenJson(JSON.parse(input.body.toString('utf8')), 'json', argsPost, 0)
      } catch (err) {
        bodyError = `JSON parsing error: ${(err as Error).message}`
      }
    }
  }
  const slash = filename.lastIndexOf('/')
  return {
    method: input.method,
    uri: target,
    protocol: input.protocol,
    requestLine: `${input.method} ${target} ${input.protocol}`,
    queryString,
    filename,
    basename: slash === -1 ? filename : filename.slice(slash + 1),
    headers,
    cookies: parseCookies(headers),
    argsGet: parseUrlencoded(queryString),
    argsPost,
    files,
    partHeaders,
    xml,
    body,
    bodyProcessor,
    bodyError,
    remoteAddr: input.remoteAddr,
  }
}
