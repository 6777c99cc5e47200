import type { Pool } from '../../upstream/pool/pool.ts'
import { rewrite } from '../rewrite.ts'
import type { RouteConfig } from '../schema.ts'
import type { Action } from './action.ts'
import { redirect } from './redirect.ts'
import { respond } from './respond.ts'
import { Split } from './split.ts'
import { serveStatic } from './static/serve-static.ts'
import { toPool } from './to-pool.ts'

/**
 * Builds a route's action from its config, which names exactly one (the schema checks it, and that
 * every pool exists): pool, split, redirect, respond or static.
 */
export function buildAction(config: RouteConfig, pools: ReadonlyMap<string, Pool>): Action {
  const rw = config.rewrite ? rewrite(config.rewrite) : undefined
  if (config.pool !== undefined) return toPool(pools.get(config.pool)!, rw)
  if (config.split) {
    const arms = config.split.pools.map((a) => ({ pool: pools.get(a.pool)!, weight: a.weight }))
    const cookie = config.split.cookie && { name: config.split.cookie.name, maxAgeMs: config.split.cookie.max_age }
    return new Split(arms, cookie, rw)
  }
  if (config.redirect) return redirect(config.redirect)
  if (config.respond) return respond(config.respond)
  return serveStatic(config.static!, rw)
}
