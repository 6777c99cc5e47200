import type { OperatorMatch } from './operators.ts'

/** What a rule link made of one value: the value after its transformations, and its operator's match. */
export interface Outcome {
  readonly value: string
  readonly match: OperatorMatch | undefined
}

/** Values longer than this are judged each time: bodies and long cookies rarely come back whole. */
const maxValueLength = 512
/** Outcomes kept per rule link before the store starts over. */
const maxEntries = 256

/**
 * One rule link's outcomes by raw value, kept across requests: the same Host, User-Agent, Accept
 * and path come back on most requests, and a link whose transformations and operator depend on the
 * value alone (no macro, no client address) decides them the same way each time.
 * Bounded: emptied when full, so unique values cost a lookup and an insert, never memory.
 */
export class Outcomes {
  readonly #byValue = new Map<string, Outcome>()

  get(raw: string): Outcome | undefined {
    return this.#byValue.get(raw)
  }

  set(raw: string, outcome: Outcome): void {
    if (raw.length > maxValueLength) return
    if (this.#byValue.size >= maxEntries) this.#byValue.clear()
    this.#byValue.set(raw, outcome)
  }
}
