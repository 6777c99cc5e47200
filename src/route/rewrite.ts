import { routingPath } from './routing-path.ts'
import type { RouteConfig } from './schema.ts'

/** A path rewrite, compiled once per Plan. */
export type Rewrite = (target: string) => string

/**
 * Compiles a route's rewrite. It works on the routing path (normalised, as routes match it), so
 * what matched is what is rewritten, and keeps the query: `strip_prefix: /api` turns
 * `/api/x?q=1` into `/x?q=1` and `/api` into `/`; `{regex, replace}` replaces the first match,
 * with `$1` and `$<name>` for its groups.
 */
export function rewrite(config: NonNullable<RouteConfig['rewrite']>): Rewrite {
  const withQuery = (target: string, path: string) => {
    const q = target.indexOf('?')
    return q < 0 ? path : path + target.slice(q)
  }
  if (config.strip_prefix !== undefined) {
    const prefix = config.strip_prefix.endsWith('/') ? config.strip_prefix.slice(0, -1) : config.strip_prefix
    return (target) => {
      const path = routingPath(target)
      const onSegment =
        path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47)
      if (!onSegment) return target
      return withQuery(target, path.length === prefix.length ? '/' : path.slice(prefix.length))
    }
  }
  const re = new RegExp(config.regex!)
  const replacement = config.replace!
  return (target) => {
    const path = routingPath(target)
    const next = path.replace(re, replacement)
    return withQuery(target, next.startsWith('/') ? next : `/${next}`)
  }
}
