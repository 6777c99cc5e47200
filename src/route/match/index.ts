import type { Exchange } from '../../exchange.ts'
import { clientMatcher } from './client.ts'
import { cookieMatcher } from './cookie.ts'
import { countryMatcher } from './country.ts'
import { headerMatcher } from './header.ts'
import { hostMatcher } from './host.ts'
import type { Matcher } from './matcher.ts'
import { methodMatcher } from './method.ts'
import { pathMatcher } from './path.ts'
import { queryMatcher } from './query.ts'
import type { MatchConfig } from './schema.ts'
import { userAgentMatcher } from './user-agent.ts'

/** Every condition by its config key, in the order they are tested: cheap ones first. */
const matchers = {
  host: hostMatcher,
  method: methodMatcher,
  path: pathMatcher,
  client: clientMatcher,
  country: countryMatcher,
  headers: headerMatcher,
  cookies: cookieMatcher,
  query: queryMatcher,
  user_agent: userAgentMatcher,
} satisfies { [K in keyof MatchConfig]-?: (condition: NonNullable<MatchConfig[K]>) => Matcher }

/** One compiled condition of a route, with where it comes from in the config. */
export interface RouteCondition {
  /** The condition's key path: `host`, `path`, or `headers.x-user` for one named header, cookie or query argument. */
  readonly key: string
  /** The condition as configured. */
  readonly expected: unknown
  readonly matcher: Matcher
}

/** Conditions that name several fields (headers, cookies, query): each name is a condition of its own. */
const byName = new Set<keyof MatchConfig>(['headers', 'cookies', 'query'])

/**
 * Compiles a route's conditions, once per Plan, in the order they are tested; an empty list
 * matches every request. `portico explain` reads them one by one to say which did not hold.
 */
export function compileConditions(config: MatchConfig | undefined): RouteCondition[] {
  if (!config) return []
  const out: RouteCondition[] = []
  for (const key of Object.keys(matchers) as (keyof MatchConfig)[]) {
    const condition = config[key]
    if (condition === undefined) continue
    const compile = matchers[key] as (c: unknown) => Matcher
    if (!byName.has(key)) out.push({ key, expected: condition, matcher: compile(condition) })
    else
      for (const [name, c] of Object.entries(condition as Record<string, unknown>))
        out.push({ key: `${key}.${name}`, expected: c, matcher: compile({ [name]: c }) })
  }
  return out
}

/** A route's compiled conditions as the route table tests them. */
export function compileMatch(config: MatchConfig | undefined): Matcher[] {
  return compileConditions(config).map((c) => c.matcher)
}

/** Whether every matcher holds; the route table's hot loop, so a plain loop. */
export function matchesAll(matchers: readonly Matcher[], x: Exchange, path: string): boolean {
  for (let i = 0; i < matchers.length; i++) if (!matchers[i]!.test(x, path)) return false
  return true
}
