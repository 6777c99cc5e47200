import type { Exchange } from '../../exchange.ts'
import type { HashKeySource } from './balancer.ts'

/** The hash key of an exchange from `source`; undefined when the request does not carry it. */
export function hashKey(x: Exchange, source: HashKeySource): string | undefined {
  switch (source.from) {
    case 'path': {
      const q = x.path.indexOf('?')
      return q < 0 ? x.path : x.path.slice(0, q)
    }
    case 'header': {
      const v = x.req.headers[source.name]
      return Array.isArray(v) ? v[0] : v
    }
    case 'cookie':
      return pairValue(x.req.headers.cookie, source.name, ';')
    case 'query': {
      const q = x.path.indexOf('?')
      return q < 0 ? undefined : pairValue(x.path.slice(q + 1), source.name, '&')
    }
  }
}

/** The value of `name` in `name=value` pairs separated by `sep` (spaces around pairs ignored). */
export function pairValue(text: string | undefined, name: string, sep: string): string | undefined {
  if (!text) return undefined
  let at = 0
  while (at < text.length) {
    while (text.charCodeAt(at) === 32) at++
    let end = text.indexOf(sep, at)
    if (end < 0) end = text.length
    if (text.startsWith(name, at) && text.charCodeAt(at + name.length) === 61)
      return text.slice(at + name.length + 1, end)
    at = end + 1
  }
  return undefined
}
