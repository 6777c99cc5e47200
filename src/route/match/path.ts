import { recordCaptures } from './captures.ts'
import type { Matcher } from './matcher.ts'
import type { MatchConfig } from './schema.ts'

/**
 * Path condition on the normalised path without query: a prefix on whole segments (`/api` matches
 * `/api` and `/api/x`, not `/apix`), an exact path, or a regex whose groups become captures.
 */
export function pathMatcher(condition: NonNullable<MatchConfig['path']>): Matcher {
  if (typeof condition === 'string') return prefix(condition)
  if (condition.prefix !== undefined) return prefix(condition.prefix)
  const exact = condition.exact
  if (exact !== undefined) return { test: (_x, path) => path === exact }
  const re = new RegExp(condition.regex!)
  return {
    test(x, path) {
      const m = re.exec(path)
      if (m === null) return false
      recordCaptures(x, m, true)
      return true
    },
  }
}

function prefix(text: string): Matcher {
  const base = text.endsWith('/') ? text.slice(0, -1) : text
  if (base === '') return { test: () => true }
  return {
    test(_x, path) {
      return path.startsWith(base) && (path.length === base.length || path.charCodeAt(base.length) === 47)
    },
  }
}
