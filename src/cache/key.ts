import type { Exchange } from '../exchange.ts'
import { cookieValue } from '../http/cookie-value.ts'
import type { CacheConfig } from './schema.ts'

/**
 * The primary cache key of a request: `scheme://host/path?query`, with the query kept, sorted or
 * ignored and named parameters dropped as the route says, then the chosen headers and cookies.
 * Built from the target the client sent, before any rewrite, so a purge names what clients ask for.
 */
export function cacheKey(x: Exchange, config: CacheConfig['key']): string {
  let key = urlKey(x.secure ? 'https' : 'http', x.host, x.path, config)
  for (const name of config.headers) {
    const value = x.req.headers[name.toLowerCase()]
    key += `\n${name}:${Array.isArray(value) ? value.join(',') : (value ?? '')}`
  }
  for (const name of config.cookies) key += `\ncookie ${name}:${cookieValue(x.req.headers.cookie, name) ?? ''}`
  return key
}

/** The URL part of a key; a purge by URL builds it the same way. */
export function urlKey(scheme: string, host: string, target: string, config: CacheConfig['key']): string {
  const q = target.indexOf('?')
  const path = q === -1 ? target : target.slice(0, q)
  if (q === -1 || config.query === 'ignore') return `${scheme}://${host}${path}`
  if (config.query === 'keep' && config.drop_params.length === 0) return `${scheme}://${host}${target}`
  let params = target
    .slice(q + 1)
    .split('&')
    .filter((p) => p !== '' && !config.drop_params.includes(decodeName(p)))
  if (config.query === 'sort') params = params.sort()
  return params.length === 0 ? `${scheme}://${host}${path}` : `${scheme}://${host}${path}?${params.join('&')}`
}

function decodeName(param: string): string {
  const eq = param.indexOf('=')
  const name = eq === -1 ? param : param.slice(0, eq)
  try {
    return decodeURIComponent(name.replaceAll('+', ' '))
  } catch {
    return name
  }
}
