import { type EventLoopUtilization, performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { fullCollection } from './full-collection.ts'

/** How {@link reduceMemoryWhenIdle} looks at the process; every field has a default for the real one. */
export interface IdleMemoryOptions {
  /** How often the event loop's utilization is read, in milliseconds; 250 by default. */
  readonly intervalMs?: number
  /** How long the event loop must stay below {@link idleBelow} to count as idle, in milliseconds; 20 000 by default. */
  readonly idleAfterMs?: number
  /** The share of an interval the event loop may be busy and still count as idle; 0.1 by default. */
  readonly idleBelow?: number
  /**
   * The share of one interval above which an idle process counts as busy again; 0.5 by default, above the
   * compacting collections memory saver mode itself brings.
   */
  readonly busyAbove?: number
  /**
   * How long a process in memory saver mode may stay above {@link idleBelow} before it counts as busy again, in
   * milliseconds; 1 000 by default, longer than the saver's own compacting collections keep it busy.
   */
  readonly lightLoadForMs?: number
  /** The event loop's utilization since the last call, from 0 to 1; node's `eventLoopUtilization` by default. */
  readonly utilization?: () => number
  /** Sets a V8 flag; `v8.setFlagsFromString` by default. */
  readonly setFlags?: (flags: string) => void
  /** Runs a full garbage collection; V8's own, reached as below, by default. */
  readonly collect?: () => void
  /** The node flags the process was started with; `process.execArgv` and `NODE_OPTIONS` by default. */
  readonly nodeFlags?: string
  /**
   * Gives malloc's free pages back to the system; glibc's `malloc_trim` through the addon `npm run build` makes
   * (native/malloc-trim.c) by default, or nothing where it was not built.
   */
  readonly trim?: () => void
}

// After memory saver mode comes on, V8's reducer runs its compacting collections within about 8 s; the buffers
// they free leave malloc's heap then, and a second trim gives back what they held.
const secondTrimAfterMs = 10_000

/**
 * Turns V8's memory saver mode on once the event loop has been idle for 20 s, and off again within 250 ms of a load
 * that keeps it busy more than half the time, or within 1 s of a lighter one, so that the memory a load made V8 take is given back after it; malloc's
 * free pages are given back too, as the mode comes on and once more 10 s later. Returns
 * the function that stops this. Does nothing when the process was started with `--memory-saver-mode` either way,
 * since that setting is the operator's.
 *
 * V8's memory reducer shrinks the heap (and releases its pool of free pages) only when it sees a low allocation
 * rate, and it measures that rate at garbage collections. Once a load stops, no collection comes, so it keeps seeing
 * the load's rate and holds on to everything; Chrome gets around this by telling V8 when a tab goes to the
 * background, and node has no such signal. In memory saver mode the reducer's next check (within about 8 s) runs
 * two compacting collections, when it has one coming; a full collection as the mode comes on makes sure of it.
 * The constraint: the mode must never be on under a load, which it makes cost more CPU per request and longer tail
 * latency, and a load that comes after a reduction runs slower while V8 compiles its code and grows its heap again;
 * 20 s of quiet makes that rare, where a shorter wait would pay it after every pause in the traffic (the
 * measurements are in docs/PERFORMANCE.md, "Where the memory goes, and what changed").
 */
export function reduceMemoryWhenIdle(options: IdleMemoryOptions = {}): () => void {
  const nodeFlags = options.nodeFlags ?? `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`
  if (/--(no-)?memory-saver-mode/.test(nodeFlags)) return () => {}
  const utilization = options.utilization ?? loopUtilization()
  const setFlags = options.setFlags ?? setFlagsFromString
  const collect = options.collect ?? fullCollection
  const trim = options.trim ?? mallocTrim()
  const intervalMs = options.intervalMs ?? 250
  const quietIntervals = Math.ceil((options.idleAfterMs ?? 20_000) / intervalMs)
  const secondTrimIntervals = Math.ceil(secondTrimAfterMs / intervalMs)
  const idleBelow = options.idleBelow ?? 0.1
  const busyAbove = options.busyAbove ?? 0.5
  const lightLoadIntervals = Math.ceil((options.lightLoadForMs ?? 1000) / intervalMs)
  let saving = false
  let quiet = 0
  let savingIntervals = 0
  let loaded = 0
  // Slow to call the process idle, quick to see a load come back: a load that starts in memory
  // saver mode runs at most one interval in it.
  const timer = setInterval(() => {
    const share = utilization()
    if (saving) {
      loaded = share < idleBelow ? 0 : loaded + 1
      if (share <= busyAbove && loaded < lightLoadIntervals) {
        if (++savingIntervals === secondTrimIntervals) trim()
        return
      }
      saving = false
      quiet = 0
      setFlags('--no-memory-saver-mode')
    } else {
      quiet = share < idleBelow ? quiet + 1 : 0
      if (quiet < quietIntervals) return
      saving = true
      savingIntervals = 0
      loaded = 0
      setFlags('--memory-saver-mode')
      collect()
      trim()
    }
  }, intervalMs)
  timer.unref()
  return () => {
    clearInterval(timer)
    if (saving) setFlags('--no-memory-saver-mode')
  }
}

/** The event loop's utilization since the previous call. */
function loopUtilization(): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization()
  return () => {
    const now = performance.eventLoopUtilization()
    const share = performance.eventLoopUtilization(now, last).utilization
    last = now
    return share
  }
}

/**
 * glibc's `malloc_trim(0)`, from the addon `npm run build` makes where it can, or a function that does nothing.
 * glibc gives back on its own only free memory at the top of a heap; memory free between live allocations,
 * which a load of large bodies, TLS and HTTP/2 leaves in the main heap, only this call releases
 * (docs/PERFORMANCE.md, "malloc's free pages given back").
 */
export function mallocTrim(path = fileURLToPath(new URL('../../dist/malloc-trim.node', import.meta.url))): () => void {
  const addon = { exports: {} as { trim?: () => void } }
  try {
    process.dlopen(addon, path)
  } catch {
    // Not built here (no C compiler, or not glibc): Portico runs the same, holding more memory after a load.
  }
  return addon.exports.trim ?? (() => {})
}
