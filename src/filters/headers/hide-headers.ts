import type { Exchange } from '../../exchange.ts'
import { dropHeaders } from '../../http/drop-headers.ts'
import type { ResponsePhase, RoutePhaseFactory } from '../phase.ts'

/** Removes the named fields from a response head. */
class HideHeaders implements ResponsePhase {
  readonly hides: ReadonlySet<string>

  constructor(names: readonly string[]) {
    this.hides = new Set(names.map((n) => n.toLowerCase()))
  }

  onResponse(_x: Exchange, _status: number, headers: string[]): undefined {
    dropHeaders(headers, this.hides)
    return undefined
  }
}

/**
 * `hide_response_headers`: fields that tell what runs behind Portico (`Server`, `X-Powered-By`, …)
 * are removed from every answer of the route, the backend's and Portico's own. By default only
 * `X-Powered-By` is; an empty list builds no phase.
 */
export const hideHeaders: RoutePhaseFactory<readonly string[]> = {
  response: (names) => (names.length > 0 ? new HideHeaders(names) : undefined),
}
