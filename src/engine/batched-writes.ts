/** Something with writes to make once the I/O callbacks of this event loop turn have run. */
export interface BatchedWrite {
  flushBatched(): void
}

/** The writes of this turn; a pass is scheduled whenever it is not empty. */
const due: BatchedWrite[] = []

/**
 * Calls `w.flushBatched()` once the I/O callbacks of this event loop turn have all run (node's
 * check phase, where setImmediate callbacks run), together with every other write queued in the
 * turn, back to back.
 *
 * Why: a write to a socket whose reader sleeps wakes that reader, and the wake-up, an
 * inter-processor interrupt on a virtual machine, is paid by the writer. Written one by one
 * between the work of each request, nearly every request and response paid for one; written
 * back to back, the first write wakes the reader and the others find it awake (measured in
 * docs/PERFORMANCE.md, "Writes batched to the end of the event loop turn").
 */
export function batchWrite(w: BatchedWrite): void {
  if (due.push(w) === 1) setImmediate(flushDue)
}

function flushDue(): void {
  // A flush may queue more (the next pipelined request's answer): those run in the same pass.
  for (let i = 0; i < due.length; i++) due[i]!.flushBatched()
  due.length = 0
}
