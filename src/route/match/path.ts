import { samePath, startsWithSegment } from '../routing-path.ts'
import { recordCaptures } from './captures.ts'
import type { Matcher } from './matcher.ts'
import type { MatchConfig } from './schema.ts'

/**
 * Path condition on the normalised path without query: a prefix on whole segments (`/api` matches
 * `/api` and `/api/x`, not `/apix`), an exact path, or a regex whose groups become captures. On a
 * listener with `paths.case_insensitive`, ASCII case is ignored; captures keep the path's case.
 */
export function pathMatcher(condition: NonNullable<MatchConfig['path']>): Matcher {
  if (typeof condition === 'string') return prefix(condition)
  if (condition.prefix !== undefined) return prefix(condition.prefix)
  const exact = condition.exact
  if (exact !== undefined) {
    const lower = exact.toLowerCase()
    return { test: (x, path) => (x.paths.ignoreCase ? samePath(path, lower, true) : path === exact) }
  }
  const re = new RegExp(condition.regex!)
  const folded = new RegExp(condition.regex!, 'i')
  return {
    test(x, path) {
      const m = (x.paths.ignoreCase ? folded : re).exec(path)
      if (m === null) return false
      recordCaptures(x, m, true)
      return true
    },
  }
}

function prefix(text: string): Matcher {
  const base = text.endsWith('/') ? text.slice(0, -1) : text
  if (base === '') return { test: () => true }
  const lower = base.toLowerCase()
  return {
    test(x, path) {
      const ignoreCase = x.paths.ignoreCase
      return startsWithSegment(path, ignoreCase ? lower : base, ignoreCase)
    },
  }
}
