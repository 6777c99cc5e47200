import type { Matcher } from './matcher.ts'

/** Method condition: one of the listed methods (compared in upper case, as methods are sent). */
export function methodMatcher(condition: string | readonly string[]): Matcher {
  const methods = new Set((typeof condition === 'string' ? [condition] : condition).map((m) => m.toUpperCase()))
  return { test: (x) => methods.has(x.req.method ?? '') }
}
