import type { Pair } from './request-data.ts'
import { urlDecode } from './transforms.ts'
import { parseXml } from './xml.ts'

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

/** The variables a request body gives, decoded by its content type (REQBODY_PROCESSOR). */
export interface BodyVariables {
  readonly argsPost: Pair[]
  readonly files: Pair[]
  readonly partHeaders: Pair[]
  readonly xml: Pair[]
  readonly bodyProcessor: string
  readonly bodyError: string
}

/**
 * Decodes a body as ModSecurity's body processors do: URL-encoded, multipart, XML or JSON by
 * `type` (the Content-Type header); `text` is the body as a byte string. Another type, or no
 * body, gives no variables.
 */
export function bodyVariables(raw: Buffer | undefined, type: string, text: string): BodyVariables {
  const none = { argsPost: [], files: [], partHeaders: [], xml: [], bodyProcessor: '', bodyError: '' }
  if (!raw || raw.length === 0) return none
  const t = type.toLowerCase()
  if (t.startsWith('application/x-www-form-urlencoded'))
    return { ...none, bodyProcessor: 'URLENCODED', argsPost: parseUrlencoded(text) }
  if (t.startsWith('multipart/form-data')) {
    const boundary = /boundary=("?)([^";,]+)\1/i.exec(type)?.[2]
    if (!boundary) return { ...none, bodyProcessor: 'MULTIPART', bodyError: 'multipart: no boundary' }
    const m = parseMultipart(text, boundary)
    return {
      ...none,
      bodyProcessor: 'MULTIPART',
      argsPost: m.args,
      files: m.files,
      partHeaders: m.headers,
      bodyError: m.error,
    }
  }
  if (/^(?:application\/(?:soap\+|[\w.-]+\+)?|text\/)xml/.test(t)) {
    const parsed = parseXml(text)
    return { ...none, bodyProcessor: 'XML', xml: parsed.pairs, bodyError: parsed.error }
  }
  if (/^application\/(?:[\w.+-]+\+)?json/.test(t)) {
    const argsPost: Pair[] = []
    try {
      flattenJson(JSON.parse(raw.toString('utf8')), 'json', argsPost, 0)
      return { ...none, bodyProcessor: 'JSON', argsPost }
    } catch (err) {
      return { ...none, bodyProcessor: 'JSON', argsPost, bodyError: `JSON parsing error: ${(err as Error).message}` }
    }
  }
  return none
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
