import type { Matcher } from './matcher.ts'

/** Country condition: the client's country (from the geo database) is one of the listed ISO codes. */
export function countryMatcher(condition: string | readonly string[]): Matcher {
  const codes = new Set((typeof condition === 'string' ? [condition] : condition).map((c) => c.toUpperCase()))
  return { test: (x) => codes.has(x.country) }
}
