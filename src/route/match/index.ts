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

/** Compiles a route's conditions, once per Plan; an empty list matches every request. */
export function compileMatch(config: MatchConfig | undefined): Matcher[] {
  if (!config) return []
  const out: Matcher[] = []
  for (const key of Object.keys(matchers) as (keyof MatchConfig)[]) {
    const condition = config[key]
    if (condition !== undefined) out.push((matchers[key] as (c: unknown) => Matcher)(condition))
  }
  return out
}

/** Whether every matcher holds; the route table's hot loop, so a plain loop. */
export function matchesAll(matchers: readonly Matcher[], x: Exchange, path: string): boolean {
  for (let i = 0; i < matchers.length; i++) if (!matchers[i]!.test(x, path)) return false
  return true
}
