import type { Duplex } from 'node:stream'
import type { FailureCode } from '../errors.ts'
import type { Exchange } from '../exchange.ts'
import type { Plan } from '../plan/plan.ts'
import type { RouteConfig } from '../route/schema.ts'

/**
 * What a request phase decides: undefined passes the exchange on; a failure code ends it; null
 * says the phase answered the exchange itself, through the answer path (`localReply`), having set
 * its outcome (forward auth relaying its service's refusal).
 */
export type Verdict = FailureCode | null | undefined

/**
 * A request phase, built once per Plan. It either passes the exchange on (undefined) or ends it
 * with a catalogue failure. It may return a promise (e.g. to read a body first); the pipeline
 * awaits only then, so synchronous phases cost no await.
 */
export interface RequestPhase {
  onRequest(x: Exchange, plan: Plan): Verdict | Promise<Verdict>
}

/**
 * A response phase, built once per Plan. Called once when the response head is known, before it is
 * sent: it may edit `headers` (flat `[name, value, …]`) in place, and may return a Transform (or
 * any Duplex) that the body then flows through on its way to the client (compression, buffering).
 */
export interface ResponsePhase {
  onResponse(x: Exchange, status: number, headers: string[]): Duplex | undefined
  /**
   * Set by a phase whose whole work is to remove these fields (lower-case names) from every head:
   * a cache may then apply it once to a head it stores, instead of on each hit.
   */
  readonly hides?: ReadonlySet<string>
}

/**
 * Builds a route's phases from its own slice of the route's config, `Slice` (its `compression:`
 * block, its `clients:` lists, …), never the whole route; returns undefined where the route does
 * not use it. The registry (index.ts) says which slice each factory gets.
 */
export interface RoutePhaseFactory<Slice> {
  request?(slice: Slice): RequestPhase | undefined
  response?(slice: Slice): ResponsePhase | undefined
}

/** A factory with the route config it takes cut to its slice: what the Plan builder calls. */
export interface RoutePhases {
  /** The config key the phase comes from (`auth`, `buffering`), as `portico explain` names it. */
  readonly name: string
  request?(route: RouteConfig): RequestPhase | undefined
  response?(route: RouteConfig): ResponsePhase | undefined
}

/** Gives `factory` the slice `pick` cuts from a route's config; `name` is the config key it comes from. */
export function sliced<Slice>(
  factory: RoutePhaseFactory<Slice>,
  pick: (route: RouteConfig) => Slice,
  name: string,
): RoutePhases {
  const { request, response } = factory
  return {
    name,
    request: request && ((route) => request.call(factory, pick(route))),
    response: response && ((route) => response.call(factory, pick(route))),
  }
}
