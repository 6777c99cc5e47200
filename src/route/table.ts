import type { RouteCache } from '../cache/route-cache.ts'
import type { Exchange } from '../exchange.ts'
import type { RequestPhase, ResponsePhase } from '../filters/phase.ts'
import type { Action } from './actions/action.ts'
import type { RouteCondition } from './match/index.ts'
import { pathOf } from './routing-path.ts'

/** A compiled route: its conditions and what it does with a request. */
export interface Route {
  readonly name: string
  readonly maxBodyBytes: number
  /** Lower-case names of the protocols a client may switch to with `Upgrade` (`upgrades`). */
  readonly upgrades: ReadonlySet<string>
  /** What the route does once the request phases passed: forward, redirect, answer, serve a file. */
  readonly action: Action
  /** Request phases of this route, after the global ones. */
  readonly requestPhases: readonly RequestPhase[]
  /** The route's cache, which runs between the request phases and the action; undefined when it does not cache. */
  readonly cache?: RouteCache | undefined
  /** Response phases of this route, in order; local answers run them too. */
  readonly responsePhases: readonly ResponsePhase[]
  /** Its conditions one by one, in the order `matches` tests them (for `portico explain`). */
  readonly conditions: readonly RouteCondition[]
  /** A name for each of `requestPhases`, in the same order (for `portico explain`). */
  readonly requestPhaseNames: readonly string[]
  /** Whether the exchange meets every condition of this route; `path` is the routing path. */
  matches(x: Exchange, path: string): boolean
}

/**
 * The routes in file order; the first that matches takes the request. File order is the whole
 * rule: nothing is reordered by specificity, so what you read is what runs.
 */
export class RouteTable {
  readonly routes: readonly Route[]
  /** Answers an exchange that no route takes. */
  readonly unmatched: Action

  constructor(routes: readonly Route[], unmatched: Action) {
    this.routes = routes
    this.unmatched = unmatched
  }

  /**
   * The first route that matches, or undefined. `x.path` is normalised already (pipeline.ts). Only
   * the taking route's captures stay on the exchange.
   */
  match(x: Exchange): Route | undefined {
    const path = pathOf(x.path)
    for (const route of this.routes) {
      if (route.matches(x, path)) return route
      x.captures = undefined
    }
    return undefined
  }
}
