import type { ValueCondition } from './schema.ts'

/** A test on one value that may be absent: presence, equality, one of a list, or a regex. */
export type ValueTest = (value: string | undefined) => boolean

/** Compiles a value condition: true (present), false (absent), "text", ["a", "b"] or {regex}. */
export function valueTest(condition: ValueCondition): ValueTest {
  if (condition === true) return (v) => v !== undefined
  if (condition === false) return (v) => v === undefined
  if (typeof condition === 'string') return (v) => v === condition
  if (Array.isArray(condition)) {
    const set = new Set(condition)
    return (v) => v !== undefined && set.has(v)
  }
  const re = new RegExp(condition.regex)
  return (v) => v !== undefined && re.test(v)
}
