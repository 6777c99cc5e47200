import type { ClientRequest } from '../../exchange.ts'
import { dropHeaders } from '../../http/drop-headers.ts'

/**
 * Removes the request fields named in `lower` (lower-case names) from both the raw list the
 * forwarded headers are built from and the parsed headers later phases read.
 */
export function removeRequestFields(req: ClientRequest, lower: ReadonlySet<string>): void {
  dropHeaders(req.rawHeaders, lower)
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
