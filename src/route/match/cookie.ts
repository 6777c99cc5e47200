import { cookieValue } from '../../http/cookie-value.ts'
import type { Matcher } from './matcher.ts'
import type { ValueCondition } from './schema.ts'
import { type ValueTest, valueTest } from './value.ts'

/** Cookie conditions: each named cookie of the request meets its condition. */
export function cookieMatcher(conditions: Readonly<Record<string, ValueCondition>>): Matcher {
  const tests: [string, ValueTest][] = Object.entries(conditions).map(([name, c]) => [name, valueTest(c)])
  return {
    test(x) {
      const header = x.req.headers.cookie
      for (const [name, test] of tests) if (!test(cookieValue(header, name))) return false
      return true
    },
  }
}
