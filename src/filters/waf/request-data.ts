import { bodyVariables, parseUrlencoded } from './request-body.ts'
import { urlDecode } from './transforms.ts'

export { parseUrlencoded } from './request-body.ts'

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
  const { argsPost, files, partHeaders, xml, bodyProcessor, bodyError } = bodyVariables(input.body, type, body)
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
