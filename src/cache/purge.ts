import type { Exchange } from '../exchange.ts'
import { urlKey } from './key.ts'
import type { CacheConfig } from './schema.ts'

/** What a purge removes: responses for these URLs (keys' URL parts), under these prefixes, or with these tags. */
export interface PurgeRule {
  readonly kind: 'url' | 'prefix' | 'tag'
  readonly values: readonly string[]
}

/**
 * The rule a PURGE request asks for: by tag when it carries the route's tag header; by prefix when
 * its target ends in `*`; else by its exact URL, keyed as the route keys requests.
 */
export function purgeRule(x: Exchange, config: CacheConfig): PurgeRule {
  const tags = x.req.headers[config.purge.tag_header.toLowerCase()]
  if (typeof tags === 'string') return { kind: 'tag', values: splitTags(tags) }
  const scheme = x.secure ? 'https' : 'http'
  if (x.path.endsWith('*')) return { kind: 'prefix', values: [`${scheme}://${x.host}${x.path.slice(0, -1)}`] }
  return { kind: 'url', values: [urlKey(scheme, x.host, x.path, config.key)] }
}

/** Whether a stored response whose key's URL part is `url`, tagged `tags`, falls under `rule`. */
export function purges(rule: PurgeRule, url: string, tags: readonly string[]): boolean {
  if (rule.kind === 'url') return rule.values.includes(url)
  if (rule.kind === 'prefix') return rule.values.some((p) => url.startsWith(p))
  return tags.some((t) => rule.values.includes(t))
}

/** Tags from a tag header: space- or comma-separated. */
export function splitTags(value: string): string[] {
  return value.split(/[\s,]+/).filter((t) => t !== '')
}

/**
 * The URLs a successful unsafe request invalidates (RFC 9111 §4.4): its target, and its
 * `Location` and `Content-Location` when they are on the same origin.
 */
export function invalidated(x: Exchange, headers: readonly string[], config: CacheConfig): string[] {
  const scheme = x.secure ? 'https' : 'http'
  const origin = `${scheme}://${x.authority.toLowerCase()}`
  const urls = [urlKey(scheme, x.host, x.path, config.key)]
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase()
    if (name !== 'location' && name !== 'content-location') continue
    let target: URL
    try {
      target = new URL(headers[i + 1]!, `${origin}${x.path}`)
    } catch {
      continue
    }
    if (target.origin !== new URL(origin).origin) continue
    urls.push(urlKey(scheme, x.host, `${target.pathname}${target.search}`, config.key))
  }
  return urls
}
