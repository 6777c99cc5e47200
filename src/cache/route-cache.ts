import type { Duplex } from 'node:stream'
import { reply } from '../answer/respond.ts'
import { type FailureCode, failures } from '../errors.ts'
import type { Exchange } from '../exchange.ts'
import type { ResponsePhase } from '../filters/phase.ts'
import type { RequestHeaders } from '../http/variant-key.ts'
import { fetchInBackground } from './background.ts'
import { Flight } from './coalesce.ts'
import { hasConditional } from './conditional.ts'
import { freshness, withinStale } from './freshness.ts'
import { cacheKey } from './key.ts'
import { type CacheShare, type LowerTier, lowerTiers } from './lower-tiers.ts'
import { type Entry, MemoryStore } from './memory-store.ts'
import { abandonStore, storeOutlivesClient, storingWithoutClient } from './outlive-client.ts'
import { storable } from './policy.ts'
import { headPreparer } from './prepared-head.ts'
import { invalidated } from './purge.ts'
import { type PurgeChannel, Purges } from './purging.ts'
import { addValidators, bypassed, requestDirectives, safeMethods } from './request.ts'
import type { CacheConfig } from './schema.ts'
import { answerStored, serveStored } from './serve.ts'
import { StoreStream } from './store-stream.ts'
import { contentLength, revalidatedEntry, storedEntry } from './stored-entry.ts'

/** Why a request went to the backend, as Cache-Status `fwd` says it (RFC 9211 §2.2). */
type Forward = 'uri-miss' | 'vary-miss' | 'stale' | 'request' | 'bypass'

/** What the cache knows about an exchange it sent to the backend, until the response head comes. */
interface Ticket {
  readonly key: string
  readonly fwd: Forward
  /** The fetch others wait on, when this exchange leads one. */
  readonly flight: Flight | undefined
  /** The stale entry found for a GET: refreshed by a 304, served when the backend fails (stale-if-error). */
  readonly stale?: Entry | undefined
  /** Whether the request carries the cache's own conditionals, so that a 304 is for the cache. */
  readonly revalidating?: boolean
  /** Whether this is an unsafe request whose success invalidates what it names (RFC 9111 §4.4). */
  readonly invalidates?: boolean
}

/**
 * A route's cache, built once per Plan. `run` comes before the route's action: it answers from the
 * store, waits for a fetch of the same object already under way, or passes the exchange on to the
 * backend. `responsePhase`, the route's first response phase, stores what comes back and says what
 * happened in `Cache-Status` (RFC 9211).
 */
export class RouteCache {
  readonly #config: CacheConfig
  readonly #store: MemoryStore
  readonly #flights = new Map<string, Flight>()
  readonly #tickets = new WeakMap<Exchange, Ticket>()
  /** Keys with a stale-while-revalidate refresh under way: one at a time per key. */
  readonly #refreshing = new Set<string>()
  readonly #graceS: number
  readonly responsePhase: ResponsePhase

  readonly #disk: LowerTier | undefined
  readonly #purges: Purges

  /**
   * `after` are the route's response phases after the cache's own, which hits go through too.
   * `name` is the route's: purges travel between workers through `shared` under it, so every
   * worker's memory tier for this route drops the same responses. With `group`, a tier shared
   * by several instances lies under the disk tier, and purges reach the other instances too.
   */
  constructor(
    config: CacheConfig,
    name: string,
    shared?: PurgeChannel,
    group?: CacheShare,
    after: readonly ResponsePhase[] = [],
  ) {
    this.#config = config
    this.#disk = lowerTiers(config, group)
    this.#graceS = config.grace / 1000
    this.#store = new MemoryStore(config.memory, headPreparer(after))
    this.#purges = new Purges(config, name, { memory: this.#store, disk: this.#disk }, shared, group)
    this.responsePhase = { onResponse: (x, status, headers) => this.#onResponse(x, status, headers) }
  }

  /** Requests waiting for another one's fetch, over all keys: for metrics, and for tests to know a wait began. */
  get waiting(): number {
    let n = 0
    for (const flight of this.#flights.values()) n += flight.waiting
    return n
  }

  /** Background refreshes under way: for metrics, and for tests to know one ended. */
  get refreshing(): number {
    return this.#refreshing.size
  }

  /** Answers `x` from the cache, or calls `go` to send it to the backend (now, or after a coalesced fetch). */
  run(x: Exchange, go: () => void): void {
    const method = x.req.method
    if (method !== 'GET' && method !== 'HEAD') {
      if (method === 'PURGE') this.#purges.answer(x)
      else {
        if (!safeMethods.has(method!))
          this.#tickets.set(x, { key: '', fwd: 'bypass', flight: undefined, invalidates: true })
        go()
      }
      return
    }
    if (bypassed(x, this.#config)) {
      this.#tickets.set(x, { key: '', fwd: 'bypass', flight: undefined })
      x.cache = 'bypass'
      go()
      return
    }
    this.#lookup(x, cacheKey(x, this.#config.key), go, this.#config.coalesce_timeout > 0, false)
  }

  /** `read` is what the disk tier said, once it was read: found or not (true), or not this variant. */
  #lookup(
    x: Exchange,
    key: string,
    go: () => void,
    coalesce: boolean,
    collapsed: boolean,
    read: boolean | 'vary-miss' = false,
  ): void {
    const cc = requestDirectives(x, this.#config)
    let found = this.#store.get(key, x.req.headers)
    if (found === undefined && read === 'vary-miss') found = 'vary-miss'
    // Not in memory (or not this variant): the disk tier is read, and what it has is promoted to memory.
    if ((found === undefined || found === 'vary-miss') && this.#disk && !read) {
      void this.#disk.get(key, x.req.headers).then((e) => {
        if (x.cancelled) return
        if (e && e !== 'vary-miss') this.#store.set(key, e, x.req.headers)
        this.#lookup(x, key, go, coalesce, collapsed, e === 'vary-miss' ? 'vary-miss' : true)
      })
      return
    }
    let fwd: Forward
    let stale: Entry | undefined
    let revalidating = false
    if (found === undefined) fwd = 'uri-miss'
    else if (found === 'vary-miss') fwd = 'vary-miss'
    else {
      const verdict = freshness(found, cc, Date.now())
      if (verdict === 'hit') {
        serveStored(x, found, collapsed)
        return
      }
      fwd = verdict
      if (x.req.method === 'GET') {
        const now = Date.now()
        // RFC 5861 §3: served stale at once while one background request refreshes it.
        if (verdict === 'stale' && withinStale(found, found.staleWhileRevalidate, this.#graceS, now)) {
          serveStored(x, found, false, 'stale-while-revalidate')
          this.#refreshInBackground(x, key, found)
          return
        }
        stale = found
        revalidating = !hasConditional(x.req.headers) && addValidators(x, found)
      }
    }
    // RFC 9111 §5.2.1.7: only-if-cached and nothing usable is a 504.
    if (cc.has('only-if-cached')) {
      x.cache = 'miss'
      reply(x, 504, 'Gateway Timeout\n', { 'cache-status': `Portico; fwd=${fwd}; detail=only-if-cached` })
      return
    }
    let flight: Flight | undefined
    if (coalesce && x.req.method === 'GET' && fwd !== 'request') {
      const running = this.#flights.get(key)
      if (running) {
        this.#wait(x, key, running, go)
        return
      }
      flight = new Flight(this.#flights, key)
      // Whatever ends the exchange (a failed backend, a client gone) releases the waiters.
      x.res.once('close', () => storingWithoutClient(x) || flight!.done(false))
    }
    this.#tickets.set(x, { key, fwd, flight, stale, revalidating })
    x.cache = 'miss'
    go()
  }

  /** Waits for the fetch of `key` under way; then answers from the store, or fetches alone. */
  #wait(x: Exchange, key: string, flight: Flight, go: () => void): void {
    const onClose = () => stop()
    const stop = flight.wait((stored) => {
      x.res.off('close', onClose)
      if (x.cancelled || x.res.destroyed) return
      this.#lookup(x, key, go, false, stored)
    }, this.#config.coalesce_timeout)
    x.res.once('close', onClose)
  }

  #onResponse(x: Exchange, status: number, headers: string[]): Duplex | undefined {
    const t = this.#tickets.get(x)
    if (t === undefined) return undefined
    this.#tickets.delete(x)
    if (t.invalidates) {
      if (status >= 200 && status < 400)
        this.#purges.broadcast({ kind: 'url', values: invalidated(x, headers, this.#config) })
      return undefined
    }
    const said = `Portico; fwd=${t.fwd}; fwd-status=${status}`
    if (t.fwd === 'bypass') {
      headers.push('cache-status', said)
      return undefined
    }
    if (t.stale && t.revalidating && status === 304) return this.#refresh(x, t, headers)
    // RFC 5861 §4: an error status from the backend is answered with the stale entry while allowed.
    if (t.stale && errorStatuses.has(status) && withinStale(t.stale, t.stale.staleIfError, this.#graceS, Date.now())) {
      t.flight?.done(false)
      return answerStored(x, t.stale, headers, `Portico; fwd=${t.fwd}; fwd-status=${status}; detail=stale-if-error`)
    }
    const s = storable(x, status, headers, this.#config)
    const length = contentLength(headers)
    const config = this.#config
    if (
      typeof s === 'string' ||
      (length !== undefined && (length > config.max_object_size || length < config.min_object_size))
    ) {
      headers.push('cache-status', said)
      t.flight?.done(false)
      return undefined
    }
    headers.push('cache-status', `${said}; stored; ttl=${Math.floor(s.lifetime - s.initialAge)}`)
    const requestHeaders = x.req.headers
    const store = new StoreStream(
      config.max_object_size,
      (body) => {
        const ok = body !== undefined && body.length >= config.min_object_size
        if (ok) {
          const entry = storedEntry(s, body, length, config.purge.tag_header)
          this.#store.set(t.key, entry, requestHeaders)
          this.#toDisk(t.key, entry, requestHeaders)
        }
        t.flight?.done(ok)
      },
      length,
    )
    if (config.store_after_client_abort) storeOutlivesClient(x, store)
    return store
  }

  /**
   * The backend answered the cache's revalidation with 304: the stored head is updated (RFC 9111
   * §3.2) and stored again with its new freshness, and the client gets the stored response in the
   * 304's stead, through the phases after this one.
   */
  #refresh(x: Exchange, t: Ticket, headers: string[]): Duplex {
    const refreshed = revalidatedEntry(x, t.stale!, headers, this.#config)
    if (refreshed) {
      this.#store.set(t.key, refreshed, x.req.headers)
      this.#toDisk(t.key, refreshed, x.req.headers)
    }
    t.flight?.done(refreshed !== undefined)
    const said = `Portico; fwd=${t.fwd}; fwd-status=304${refreshed ? '; stored' : ''}`
    return answerStored(x, refreshed ?? t.stale!, headers, said)
  }

  /**
   * Called when the exchange fails before its response began (backend refused, timed out, no
   * server): answers it with the stale entry when stale-if-error or the grace allows, and returns
   * whether it did.
   */
  rescue(x: Exchange, code: FailureCode): boolean {
    abandonStore(x)
    const t = this.#tickets.get(x)
    const status = failures[code].status
    if (!t?.stale || x.res.headersSent || !(status === 502 || status === 503 || status === 504)) return false
    if (!withinStale(t.stale, t.stale.staleIfError, this.#graceS, Date.now())) return false
    this.#tickets.delete(x)
    t.flight?.done(false)
    serveStored(x, t.stale, false, 'stale-if-error')
    return true
  }

  /** Writes an entry to the disk tier too, when the route has one, as the answer to the request headers `h`. */
  #toDisk(key: string, entry: Entry, h: RequestHeaders): void {
    if (this.#disk) void this.#disk.set(key, key.split('\n')[0]!, entry, h)
  }

  /** Starts one background refresh of `key`, unless one runs already. */
  #refreshInBackground(x: Exchange, key: string, e: Entry): void {
    if (this.#refreshing.has(key) || x.route === undefined) return
    this.#refreshing.add(key)
    fetchInBackground(
      x,
      x.route,
      (bx) =>
        this.#tickets.set(bx, { key, fwd: 'stale', flight: undefined, stale: e, revalidating: addValidators(bx, e) }),
      () => this.#refreshing.delete(key),
    )
  }
}

// RFC 5861 §4: the errors stale-if-error covers.
const errorStatuses = new Set([500, 502, 503, 504])
