import { recordCaptures } from './captures.ts'
import type { Matcher } from './matcher.ts'
import type { MatchConfig } from './schema.ts'

/**
 * Host condition on the lower-case host name without port: exact names, `*.suffix` wildcards (any
 * depth of subdomain, not the bare suffix), or a regex whose named groups become captures.
 */
export function hostMatcher(condition: NonNullable<MatchConfig['host']>): Matcher {
  if (typeof condition === 'object' && !Array.isArray(condition)) {
    const re = new RegExp(condition.regex)
    return {
      test(x) {
        const m = re.exec(x.host)
        if (m === null) return false
        recordCaptures(x, m, false)
        return true
      },
    }
  }
  const exact = new Set<string>()
  const suffixes: string[] = []
  for (const p of typeof condition === 'string' ? [condition] : condition) {
    const lower = p.toLowerCase()
    if (lower.startsWith('*.')) suffixes.push(lower.slice(1))
    else exact.add(lower)
  }
  return {
    test(x) {
      const host = x.host
      if (exact.has(host)) return true
      for (const suffix of suffixes) if (host.length > suffix.length && host.endsWith(suffix)) return true
      return false
    },
  }
}
