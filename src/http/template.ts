import type { Exchange } from '../exchange.ts'

/** Variables a template may name, by name; captures of the route's regexes come on top. */
export const variables = {
  client_ip: (x) => x.clientAddress,
  country: (x) => x.country,
  request_id: (x) => x.id,
  host: (x) => x.host,
  method: (x) => x.req.method ?? '',
  scheme: (x) => (x.secure ? 'https' : 'http'),
  path: (x) => {
    const q = x.path.indexOf('?')
    return q < 0 ? x.path : x.path.slice(0, q)
  },
  query: (x) => {
    const q = x.path.indexOf('?')
    return q < 0 ? '' : x.path.slice(q + 1)
  },
  request_uri: (x) => x.path,
} satisfies Record<string, (x: Exchange) => string>

const reference = /\{([A-Za-z_]\w*|\d+)\}/g

/** The names a template refers to, in order: `"/u/{id}?c={country}"` → `["id", "country"]`. */
export function templateNames(text: string): string[] {
  return Array.from(text.matchAll(reference), (m) => m[1]!)
}

/** A text with `{variable}` references, compiled once per Plan. */
export interface Template {
  /** The text with every reference replaced by its value for this exchange; an absent capture gives "". */
  render(x: Exchange): string
}

/**
 * Compiles `text`. A reference is `{name}` where name is a variable (`client_ip`, `country`,
 * `request_id`, `host`, `method`, `scheme`, `path`, `query`, `request_uri`) or a capture of the
 * route's host or path regex (named, or numbered for the path); other braces are literal text.
 */
export function template(text: string): Template {
  const parts: (string | ((x: Exchange) => string))[] = []
  let last = 0
  for (const m of text.matchAll(reference)) {
    if (m.index > last) parts.push(text.slice(last, m.index))
    const name = m[1]!
    parts.push(name in variables ? variables[name as keyof typeof variables] : (x) => x.captures?.[name] ?? '')
    last = m.index + m[0].length
  }
  if (last < text.length) parts.push(text.slice(last))
  if (parts.length === 0) return { render: () => '' }
  if (parts.length === 1 && typeof parts[0] === 'string') {
    const constant = parts[0]
    return { render: () => constant }
  }
  return {
    render(x) {
      let out = ''
      for (const part of parts) out += typeof part === 'string' ? part : part(x)
      return out
    },
  }
}
