import type { Exchange } from '../../exchange.ts'
import { type Template, template } from '../../http/template.ts'
import type { RouteConfig } from '../../route/schema.ts'
import type { RequestPhase, ResponsePhase, RoutePhaseFactory } from '../phase.ts'

/** One side's edits as a route's `request_headers` or `response_headers` block gives them. */
export type Edits = NonNullable<RouteConfig['request_headers']>

/** One side's header edits, compiled: names lower case, values as templates. */
interface Compiled {
  /** Names removed first: those of `remove` and of `set`. */
  readonly drop: ReadonlySet<string>
  /** Headers appended after: those of `set` and `add`, in that order. */
  readonly append: readonly (readonly [string, Template])[]
}

function compile(edits: Edits): Compiled {
  const set = Object.entries(edits.set ?? {})
  const drop = new Set([...(edits.remove ?? []), ...set.map(([name]) => name)].map((n) => n.toLowerCase()))
  const append = [...set, ...Object.entries(edits.add ?? {})].map(([name, value]) => [name, template(value)] as const)
  return { drop, append }
}

/** Applies edits to a flat `[name, value, …]` list in place: removes, then appends. */
function edit(list: string[], c: Compiled, x: Exchange): void {
  if (c.drop.size > 0) {
    let w = 0
    for (let r = 0; r < list.length; r += 2) {
      if (c.drop.has(list[r]!.toLowerCase())) continue
      list[w++] = list[r]!
      list[w++] = list[r + 1]!
    }
    list.length = w
  }
  for (const [name, value] of c.append) list.push(name, value.render(x))
}

/**
 * Request header edits: the headers the pool receives. Edits the request's raw header list, from
 * which the forwarded headers are built, and the parsed headers, so later phases see the same.
 */
class RequestHeaders implements RequestPhase {
  readonly #c: Compiled

  constructor(c: Compiled) {
    this.#c = c
  }

  onRequest(x: Exchange): undefined {
    const req = x.req
    edit(req.rawHeaders, this.#c, x)
    const parsed = req.headers
    for (const name of this.#c.drop) delete parsed[name]
    for (const [name] of this.#c.append) {
      const lower = name.toLowerCase()
      const values: string[] = []
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        if (req.rawHeaders[i]!.toLowerCase() === lower) values.push(req.rawHeaders[i + 1]!)
      parsed[lower] = values.join(', ')
    }
    return undefined
  }
}

/** Response header edits, on a backend's answer and on Portico's own (redirect, respond, static). */
class ResponseHeaders implements ResponsePhase {
  readonly #c: Compiled

  constructor(c: Compiled) {
    this.#c = c
  }

  onResponse(x: Exchange, _status: number, headers: string[]): undefined {
    edit(headers, this.#c, x)
    return undefined
  }
}

/**
 * Set, add and remove request and response headers per route (`request_headers`,
 * `response_headers`), with variables such as `{client_ip}`, `{country}`, `{request_id}`, `{host}`
 * and the route's captures. By default a route edits nothing.
 */
export const headers: RoutePhaseFactory<{ readonly request?: Edits; readonly response?: Edits }> = {
  request: (edits) => (edits.request ? new RequestHeaders(compile(edits.request)) : undefined),
  response: (edits) => (edits.response ? new ResponseHeaders(compile(edits.response)) : undefined),
}
