import { randomBytes } from 'node:crypto'

// A random prefix per process plus a counter: unique across restarts and instances, and far
// cheaper per request than a UUID.
const prefix = randomBytes(6).toString('hex')
let counter = 0

/** A new request id such as `3f9a0c1b2d4e-1a`. */
export function newRequestId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return `${prefix}-${counter.toString(36)}`
}

/** Whether a client-sent request id is safe to keep: short, printable, no separators that break logs. */
export function isValidRequestId(id: string): boolean {
  return id.length > 0 && id.length <= 200 && /^[\w.:@/+=-]+$/.test(id)
}
