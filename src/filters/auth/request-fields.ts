import type { ClientRequest } from '../../exchange.ts'

/**
 * Removes the request fields named in `lower` (lower-case names) from both the raw list the
 * forwarded headers are built from and the parsed headers later phases read.
 */
export function removeRequestFields(req: ClientRequest, lower: ReadonlySet<string>): void {
  const raw = req.rawHeaders
  let w = 0
  for (let r = 0; r < raw.length; r += 2) {
    if (lower.has(raw[r]!.toLowerCase())) continue
    raw[w++] = raw[r]!
    raw[w++] = raw[r + 1]!
  }
  raw.length = w
  const parsed = req.headers as Record<string, unknown>
  for (const name of lower) delete parsed[name]
}

/** Appends a request field, to the raw list and the parsed headers (joined with ", " after any earlier one). */
export function addRequestField(req: ClientRequest, name: string, value: string): void {
  req.rawHeaders.push(name, value)
  const parsed = req.headers as Record<string, string | string[] | undefined>
  const lower = name.toLowerCase()
  const prior = parsed[lower]
  parsed[lower] = prior === undefined ? value : `${Array.isArray(prior) ? prior.join(', ') : prior}, ${value}`
}
