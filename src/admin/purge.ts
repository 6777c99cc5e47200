import type { PurgeRule } from '../cache/purge.ts'
import type { Config } from '../config/schema.ts'
import { AdminError } from './admin-error.ts'

/** A purge as the API takes it: one of `urls`, `prefixes` or `tags`, on `route` or every caching route. */
export interface PurgeInput {
  readonly route?: unknown
  readonly urls?: unknown
  readonly prefixes?: unknown
  readonly tags?: unknown
}

/**
 * The routes a purge applies to and its rule: exact URLs (as the cache keys them,
 * `scheme://host/path?query`), URL prefixes, or tags. 400 unless exactly one list of strings is
 * given; 404 when no route (or not the named one) caches.
 */
export function purgeOn(config: Config, input: PurgeInput): { routes: string[]; rule: PurgeRule } {
  const given = (['urls', 'prefixes', 'tags'] as const).filter((k) => input[k] !== undefined)
  const values = given.length === 1 ? input[given[0]!] : undefined
  if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string'))
    throw new AdminError(400, 'give one of urls, prefixes or tags: a list of strings')
  const kind = ({ urls: 'url', prefixes: 'prefix', tags: 'tag' } as const)[given[0]!]
  const routes = config.routes
    .map((r, i) => ({ name: r.name ?? `route${i}`, caches: r.cache?.enabled === true }))
    .filter((r) => r.caches && (input.route === undefined || r.name === input.route))
    .map((r) => r.name)
  if (routes.length === 0)
    throw new AdminError(
      404,
      input.route === undefined ? 'no route caches' : `no caching route "${String(input.route)}"`,
    )
  return { routes, rule: { kind, values: values as string[] } }
}
