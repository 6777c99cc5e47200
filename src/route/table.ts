import type { Exchange } from '../exchange.ts'
import type { RequestPhase, ResponsePhase } from '../filters/phase.ts'
import type { Pool } from '../upstream/pool.ts'

/** A compiled route: its conditions and what it does with a request. */
export interface Route {
  readonly name: string
  readonly pool: Pool
  readonly maxBodyBytes: number
  /** Request phases of this route, after the global ones. */
  readonly requestPhases: readonly RequestPhase[]
  /** Response phases of this route, in order. */
  readonly responsePhases: readonly ResponsePhase[]
  /** Whether the exchange meets every condition of this route. */
  matches(x: Exchange): boolean
}

/** Host condition: exact names and `*.suffix` wildcards (which match any depth of subdomain). */
export function hostMatcher(patterns: readonly string[]): (host: string) => boolean {
  const exact = new Set<string>()
  const suffixes: string[] = []
  for (const p of patterns) {
    const lower = p.toLowerCase()
    if (lower.startsWith('*.')) suffixes.push(lower.slice(1))
    else exact.add(lower)
  }
  return (host) => {
    if (exact.has(host)) return true
    for (const suffix of suffixes) if (host.length > suffix.length && host.endsWith(suffix)) return true
    return false
  }
}

/** Path prefix condition on whole segments: `/api` matches `/api`, `/api/x` and `/api?q`, not `/apix`. */
export function pathPrefixMatcher(prefix: string): (path: string) => boolean {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
  if (base === '') return () => true
  return (path) => {
    if (!path.startsWith(base)) return false
    const next = path.charCodeAt(base.length)
    // End of path, '/', '?' or '#'.
    return Number.isNaN(next) || next === 47 || next === 63 || next === 35
  }
}

/** The routes in file order; the first that matches takes the request. */
export class RouteTable {
  readonly routes: readonly Route[]

  constructor(routes: readonly Route[]) {
    this.routes = routes
  }

  /** The first route that matches, or undefined. */
  match(x: Exchange): Route | undefined {
    for (const route of this.routes) if (route.matches(x)) return route
    return undefined
  }
}
