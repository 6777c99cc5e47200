import type { Matcher } from './matcher.ts'
import type { ValueCondition } from './schema.ts'
import { type ValueTest, valueTest } from './value.ts'

/** Header conditions: each named header (case-insensitive; repeated ones joined by ", ") meets its condition. */
export function headerMatcher(conditions: Readonly<Record<string, ValueCondition>>): Matcher {
  const tests: [string, ValueTest][] = Object.entries(conditions).map(([name, c]) => [name.toLowerCase(), valueTest(c)])
  return {
    test(x) {
      const headers = x.req.headers
      for (const [name, test] of tests) {
        const value = headers[name]
        if (!test(Array.isArray(value) ? value.join(', ') : value)) return false
      }
      return true
    },
  }
}
