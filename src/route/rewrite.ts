import { startsWithSegment } from './routing-path.ts'
import type { RouteConfig } from './schema.ts'

/**
 * A path rewrite, compiled once per Plan: takes a normalised target and whether the listener
 * ignores case in paths, and returns the target to send on.
 */
export type Rewrite = (target: string, ignoreCase: boolean) => string

/**
 * Compiles a route's rewrite. It works on the normalised path (as routes match it), so what
 * matched is what is rewritten, and keeps the query: `strip_prefix: /api` turns `/api/x?q=1` into
 * `/x?q=1` and `/api` into `/`; `{regex, replace}` replaces the first match, with `$1` and
 * `$<name>` for its groups. On a case-insensitive listener the prefix and regex ignore ASCII case.
 */
export function rewrite(config: NonNullable<RouteConfig['rewrite']>): Rewrite {
  const split = (target: string): [string, string] => {
    const q = target.indexOf('?')
    return q < 0 ? [target, ''] : [target.slice(0, q), target.slice(q)]
  }
  if (config.strip_prefix !== undefined) {
    const prefix = config.strip_prefix.endsWith('/') ? config.strip_prefix.slice(0, -1) : config.strip_prefix
    const lower = prefix.toLowerCase()
    return (target, ignoreCase) => {
      const [path, query] = split(target)
      if (!startsWithSegment(path, ignoreCase ? lower : prefix, ignoreCase)) return target
      return (path.length === prefix.length ? '/' : path.slice(prefix.length)) + query
    }
  }
  const re = new RegExp(config.regex!)
  const folded = new RegExp(config.regex!, 'i')
  const replacement = config.replace!
  return (target, ignoreCase) => {
    const [path, query] = split(target)
    const next = path.replace(ignoreCase ? folded : re, replacement)
    return (next.startsWith('/') ? next : `/${next}`) + query
  }
}
