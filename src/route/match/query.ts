import { queryValue } from '../../http/query-value.ts'
import type { Matcher } from './matcher.ts'
import type { ValueCondition } from './schema.ts'
import { type ValueTest, valueTest } from './value.ts'

/** Query conditions: the first occurrence of each named argument, decoded, meets its condition. */
export function queryMatcher(conditions: Readonly<Record<string, ValueCondition>>): Matcher {
  const tests: [string, ValueTest][] = Object.entries(conditions).map(([name, c]) => [name, valueTest(c)])
  return {
    test(x) {
      for (const [name, test] of tests) if (!test(queryValue(x.path, name))) return false
      return true
    },
  }
}
