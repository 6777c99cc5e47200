import { type RenderedFields, renderFields } from '../engine/index.ts'
import type { ResponsePhase } from '../filters/phase.ts'
import { dropHeaders } from '../http/drop-headers.ts'
import { field } from './conditional.ts'

/**
 * What a hit needs of a stored head, made once when the entry is stored in memory: its fields
 * checked and made into HTTP/1.1 text (only Age, the request id and Cache-Status vary per hit),
 * and the fields that a hit reads.
 */
export interface PreparedHead {
  /** The head as the route's phases leave it, ready to send; undefined when a phase does more than hide fields, or a field would not pass writeHead()'s checks. */
  readonly fields: RenderedFields | undefined
  /** The fields the route's phases hide, to be hidden from what a hit adds too. */
  readonly hides: readonly ReadonlySet<string>[]
  readonly etag: string | undefined
  readonly lastModified: string | undefined
  /** Whether the stored head has its own Strict-Transport-Security, which the listener's does not replace. */
  readonly hsts: boolean
}

/**
 * Makes the function that prepares stored heads (flat `[name, value, …]`) for a route whose response
 * phases after the cache are `after`: rendered only when each of them just hides fields (`hides`),
 * which are then hidden from the rendered head once.
 */
export function headPreparer(after: readonly ResponsePhase[]): (headers: readonly string[]) => PreparedHead {
  const hides = after.flatMap((p) => (p.hides ? [p.hides] : []))
  const renders = hides.length === after.length
  return (headers) => {
    let edited = headers
    if (hides.length > 0) {
      const copy = [...headers]
      for (const names of hides) dropHeaders(copy, names)
      edited = copy
    }
    return {
      fields: renders ? rendered(edited) : undefined,
      hides,
      etag: field(headers, 'etag'),
      lastModified: field(headers, 'last-modified'),
      hsts: field(edited, 'strict-transport-security') !== undefined,
    }
  }
}

function rendered(headers: readonly string[]): RenderedFields | undefined {
  try {
    return renderFields(headers)
  } catch {
    // Served through writeHead(), which answers such a field as it answers any.
    return undefined
  }
}

/** Bytes a prepared head holds: its text and its objects. */
export function preparedBytes(p: PreparedHead | undefined): number {
  return p === undefined ? 0 : (p.fields?.text.length ?? 0) + 160
}
