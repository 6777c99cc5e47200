import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { mallocTrim } from './idle-memory.ts'

// V8's `gc`, once reached; null when this node does not expose it.
let gc: (() => void) | null | undefined

/**
 * A full collection now, in memory saver mode one that compacts the heap and gives its free pages back. V8's
 * memory reducer alone does so only when a collection has come since the load, so an idle process may keep
 * what the load made it take (docs/PERFORMANCE.md, "Memory given back when idle"). Node has no call for it:
 * `gc` is exposed to a context made for it, once, the first time it is needed.
 */
export function fullCollection(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('typeof gc === "function" ? gc : null') as (() => void) | null
  }
  gc?.()
}

let due = false
let trim: (() => void) | undefined

/**
 * A full collection once the I/O of this turn is done, one however many ask in the meantime, and
 * malloc's free pages given back after it: for memory that the caller knows it has let go of, in
 * bulk, and that V8 would otherwise keep until its own limits, which grow with what the process
 * holds (docs/PERFORMANCE.md, "Cache hits").
 */
export function collectSoon(): void {
  if (due) return
  due = true
  // A cache that keeps replacing its entries asks often: the pauses are spaced by at least
  // minimumGapMs, so that they take a bounded share of the time, and the last ask is never dropped.
  const wait = lastAt + minimumGapMs - performance.now()
  if (wait > 0) setTimeout(collectNow, wait).unref()
  else setImmediate(collectNow)
}

/** The least time between two collections asked for by collectSoon, in ms. */
const minimumGapMs = 500
let lastAt = Number.NEGATIVE_INFINITY

function collectNow(): void {
  due = false
  lastAt = performance.now()
  fullCollection()
  // The buffers the collection freed go back to malloc, which keeps the pages of those freed
  // between live ones until it is asked to give them back.
  trim ??= mallocTrim()
  trim()
}
