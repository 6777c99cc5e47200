import type { Transform } from 'node:stream'
import type { Exchange } from '../../exchange.ts'
import type { ResponsePhase } from '../../filters/phase.ts'
import { cookieValue } from '../../http/cookie-value.ts'
import type { Pool } from '../../upstream/pool/pool.ts'
import type { Rewrite } from '../rewrite.ts'
import type { Action } from './action.ts'

/** One arm of a split: a pool and its relative share. */
export interface SplitArm {
  readonly pool: Pool
  readonly weight: number
}

/** The cookie that pins a client to the pool it first got. */
export interface SplitCookie {
  readonly name: string
  readonly maxAgeMs: number
}

/**
 * Spreads exchanges over pools by weight with smooth weighted round robin, so 90/10 gives exactly
 * 9 of every 10 new clients to the first pool, interleaved. With a cookie, a client that names one
 * of the pools keeps it; any other gets the next pick, and its response sets the cookie (this is
 * also a response phase of the route).
 */
export class Split implements Action, ResponsePhase {
  readonly #arms: readonly SplitArm[]
  readonly #scores: Float64Array
  readonly #cookie: SplitCookie | undefined
  readonly #setCookie: string
  readonly #rewrite: Rewrite | undefined

  constructor(arms: readonly SplitArm[], cookie: SplitCookie | undefined, rewrite: Rewrite | undefined) {
    this.#arms = arms
    this.#scores = new Float64Array(arms.length)
    this.#cookie = cookie
    this.#setCookie = cookie ? `; Path=/; Max-Age=${Math.floor(cookie.maxAgeMs / 1000)}; HttpOnly; SameSite=Lax` : ''
    this.#rewrite = rewrite
  }

  /** The split itself when it pins clients by cookie: it then adds Set-Cookie to responses. */
  get responsePhase(): ResponsePhase | undefined {
    return this.#cookie ? this : undefined
  }

  run(x: Exchange): Pool | undefined {
    if (this.#rewrite) x.path = this.#rewrite(x.path, x.paths.ignoreCase)
    if (this.#cookie) {
      const pinned = cookieValue(x.req.headers.cookie, this.#cookie.name)
      if (pinned !== undefined)
        for (const arm of this.#arms) if (arm.pool.name === pinned && arm.weight > 0) return arm.pool
    }
    return this.#pick()
  }

  onResponse(x: Exchange, _status: number, headers: string[]): Transform | undefined {
    const cookie = this.#cookie
    const pool = x.pool
    if (cookie && pool && cookieValue(x.req.headers.cookie, cookie.name) !== pool.name) {
      headers.push('set-cookie', `${cookie.name}=${pool.name}${this.#setCookie}`)
    }
    return undefined
  }

  #pick(): Pool {
    const arms = this.#arms
    const scores = this.#scores
    let total = 0
    let best = -1
    for (let i = 0; i < arms.length; i++) {
      const weight = arms[i]!.weight
      if (weight === 0) continue
      scores[i]! += weight
      total += weight
      if (best < 0 || scores[i]! > scores[best]!) best = i
    }
    scores[best]! -= total
    return arms[best]!.pool
  }
}
