import { type Duplex, Transform, type TransformCallback } from 'node:stream'
import type { SharedState } from '../cluster/shared-state.ts'
import { type FailureCode, failures } from '../errors.ts'
import type { Exchange } from '../exchange.ts'
import type { ResponsePhase } from '../filters/phase.ts'
import { AddressSet } from '../http/cidr.ts'
import { closeIfBodyUnread, reply, respondError, startResponse } from '../respond.ts'
import { cookieValue } from '../route/cookie-value.ts'
import type { ByteRange } from '../static/range.ts'
import { fetchInBackground } from './background.ts'
import { Flight } from './coalesce.ts'
import { field, hasConditional, notModified, updatedHead } from './conditional.ts'
import { directives } from './directives.ts'
import { freshness, withinStale } from './freshness.ts'
import { cacheKey } from './key.ts'
import { type CacheShare, type LowerTier, lowerTiers } from './lower-tiers.ts'
import { type Entry, MemoryStore } from './memory-store.ts'
import { abandonStore, storeOutlivesClient, storingWithoutClient } from './outlive-client.ts'
import { currentAge, storable } from './policy.ts'
import { invalidated, type PurgeRule, purgeRule, purges, splitTags } from './purge.ts'
import { byteRanges, ifRangeHolds, rangeBody } from './range.ts'
import type { CacheConfig } from './schema.ts'
import { StoreStream } from './store-stream.ts'
import type { RequestHeaders } from './variant-key.ts'

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

const none = new Map<string, string | true>()

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

  readonly #shared: SharedState | undefined
  readonly #disk: LowerTier | undefined
  readonly #group: CacheShare | undefined
  readonly #purgeKey: string
  readonly #purgeFrom: AddressSet

  /**
   * `name` is the route's: purges travel between workers through `shared` under it, so every
   * worker's memory tier for this route drops the same responses. With `group`, a tier shared
   * by several instances lies under the disk tier, and purges reach the other instances too.
   */
  constructor(config: CacheConfig, name: string, shared?: SharedState, group?: CacheShare) {
    this.#config = config
    this.#shared = shared
    this.#group = group
    this.#disk = lowerTiers(config, group)
    this.#purgeKey = `cache-purge/${name}`
    this.#purgeFrom = new AddressSet(config.purge.allow)
    // A reload builds new caches: the watcher holds this one weakly, so an old Plan's memory tier can go.
    const ref = new WeakRef(this)
    const stop = shared?.watch(this.#purgeKey, (_key, value) => {
      const cache = ref.deref()
      if (cache) cache.#apply((value as { rule: PurgeRule }).rule)
      else stop?.()
    })
    const stopGroup = group?.purges.subscribe(this.#purgeKey, (rule) => {
      const cache = ref.deref()
      if (cache) cache.#apply(rule, true)
      else stopGroup?.()
    })
    this.#graceS = config.grace / 1000
    this.#store = new MemoryStore(config.memory)
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
      if (method === 'PURGE') this.#purge(x)
      else {
        if (!safeMethods.has(method!))
          this.#tickets.set(x, { key: '', fwd: 'bypass', flight: undefined, invalidates: true })
        go()
      }
      return
    }
    if (this.#bypassed(x)) {
      this.#tickets.set(x, { key: '', fwd: 'bypass', flight: undefined })
      x.cache = 'bypass'
      go()
      return
    }
    this.#lookup(x, cacheKey(x, this.#config.key), go, this.#config.coalesce_timeout > 0, false)
  }

  #lookup(x: Exchange, key: string, go: () => void, coalesce: boolean, collapsed: boolean, read = false): void {
    const cc = this.#requestDirectives(x)
    const found = this.#store.get(key, x.req.headers)
    // Not in memory (or not this variant): the disk tier is read, and what it has is promoted to memory.
    if ((found === undefined || found === 'vary-miss') && this.#disk && !read) {
      void this.#disk.get(key, x.req.headers).then((e) => {
        if (x.cancelled) return
        if (e && e !== 'vary-miss') this.#store.set(key, e, x.req.headers)
        this.#lookup(x, key, go, coalesce, collapsed, true)
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
        this.#serve(x, found, collapsed)
        return
      }
      fwd = verdict
      if (x.req.method === 'GET') {
        const now = Date.now()
        // RFC 5861 §3: served stale at once while one background request refreshes it.
        if (verdict === 'stale' && withinStale(found, found.staleWhileRevalidate, this.#graceS, now)) {
          this.#serve(x, found, false, 'stale-while-revalidate')
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

  /** Answers `x` with a stored response: Age per RFC 9111 §4.2.3, the route's response phases run on it. */
  #serve(x: Exchange, e: Entry, collapsed: boolean, detail?: string): void {
    const age = Math.floor(currentAge(e, Date.now()))
    const ttl = Math.floor(e.lifetime - age)
    const headers = [...e.headers, 'age', String(age), 'x-request-id', x.id]
    const more = `${collapsed ? '; collapsed' : ''}${detail ? `; detail=${detail}` : ''}`
    headers.push('cache-status', `Portico; hit; ttl=${ttl}${more}`)
    x.cache = detail ? 'stale' : 'hit'
    // RFC 9111 §4.3.2: a fresh entry answers the client's own conditional request.
    if (e.status === 200 && notModified(x.req.headers, field(e.headers, 'etag'), field(e.headers, 'last-modified'))) {
      startResponse(x, 304, withoutLength(headers)).end()
      return
    }
    const range = x.req.headers.range
    if (range !== undefined && e.status === 200 && x.req.method === 'GET') {
      const ifRange = x.req.headers['if-range'] as string | undefined
      const wanted = ifRangeHolds(ifRange, field(e.headers, 'etag'), field(e.headers, 'last-modified'))
        ? byteRanges(range, e.body.length)
        : undefined
      if (wanted === 'unsatisfiable') {
        respondError(x, 'range_not_satisfiable', { 'content-range': `bytes */${e.body.length}` })
        return
      }
      if (wanted) {
        this.#servePartial(x, headers, e.body, wanted)
        return
      }
    }
    const out = startResponse(x, e.status, headers)
    if (x.req.method === 'HEAD' || e.body.length === 0) {
      out.end()
      return
    }
    x.bytesOut += e.body.length
    out.end(e.body)
  }

  /** Answers a range request from a stored body (RFC 9110 §14.2): 206 with one range, or multipart/byteranges. */
  #servePartial(x: Exchange, headers: string[], body: Buffer, ranges: readonly ByteRange[]): void {
    const part = rangeBody(body, ranges, field(headers, 'content-type'))
    const head: string[] = []
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!.toLowerCase()
      if (name !== 'content-length' && name !== 'content-type') head.push(headers[i]!, headers[i + 1]!)
    }
    if (part.contentType !== undefined) head.push('content-type', part.contentType)
    if (part.contentRange !== undefined) head.push('content-range', part.contentRange)
    head.push('content-length', String(part.body.length))
    x.bytesOut += part.body.length
    startResponse(x, 206, head).end(part.body)
  }

  #onResponse(x: Exchange, status: number, headers: string[]): Duplex | undefined {
    const t = this.#tickets.get(x)
    if (t === undefined) return undefined
    this.#tickets.delete(x)
    if (t.invalidates) {
      if (status >= 200 && status < 400) this.#broadcast({ kind: 'url', values: invalidated(x, headers, this.#config) })
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
      return this.#answerStored(
        x,
        t.stale,
        headers,
        `Portico; fwd=${t.fwd}; fwd-status=${status}; detail=stale-if-error`,
      )
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
    const store = new StoreStream(config.max_object_size, (body) => {
      const ok = body !== undefined && body.length >= config.min_object_size
      // The whole body is known now: a hit states its length, whatever framing the backend chose.
      if (ok) {
        const head = length === undefined ? [...s.headers, 'content-length', String(body.length)] : s.headers
        const tagged = field(s.headers, config.purge.tag_header.toLowerCase())
        const tags = tagged === undefined ? [] : splitTags(tagged)
        const entry = { ...s, headers: head, body, tags }
        this.#store.set(t.key, entry, requestHeaders)
        this.#toDisk(t.key, entry, requestHeaders)
      }
      t.flight?.done(ok)
    })
    if (config.store_after_client_abort) storeOutlivesClient(x, store)
    return store
  }

  /**
   * The backend answered the cache's revalidation with 304: the stored head is updated (RFC 9111
   * §3.2) and stored again with its new freshness, and the client gets the stored response in the
   * 304's stead, through the phases after this one.
   */
  #refresh(x: Exchange, t: Ticket, headers: string[]): Duplex {
    const e = t.stale!
    const head = updatedHead(e.headers, headers)
    const s = storable(x, e.status, head, this.#config)
    let entry = e
    if (typeof s !== 'string') {
      entry = {
        ...s,
        headers: field(s.headers, 'content-length')
          ? s.headers
          : [...s.headers, 'content-length', String(e.body.length)],
        body: e.body,
        tags: e.tags,
      }
      this.#store.set(t.key, entry, x.req.headers)
      this.#toDisk(t.key, entry, x.req.headers)
    }
    t.flight?.done(typeof s !== 'string')
    return this.#answerStored(
      x,
      entry,
      headers,
      `Portico; fwd=${t.fwd}; fwd-status=304${typeof s === 'string' ? '' : '; stored'}`,
    )
  }

  /** Replaces the response under way (head edited in place) with a stored one; returns the stream that sends its body. */
  #answerStored(x: Exchange, e: Entry, headers: string[], cacheStatus: string): Duplex {
    const age = Math.floor(currentAge(e, Date.now()))
    headers.length = 0
    headers.push(...e.headers, 'age', String(age), 'x-request-id', x.id, 'cache-status', cacheStatus)
    x.status = e.status
    x.cache = 'stale'
    x.bytesOut += e.body.length
    return new StoredBody(e.body)
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
    this.#serve(x, t.stale, false, 'stale-if-error')
    return true
  }

  /** Answers a PURGE: from an allowed address, removes what it names in every worker; else 405. */
  #purge(x: Exchange): void {
    if (!this.#purgeFrom.has(x.clientAddress)) {
      respondError(x, 'method_not_allowed', { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' })
      return
    }
    const n = this.#broadcast(purgeRule(x, this.#config))
    x.cache = 'purge'
    closeIfBodyUnread(x)
    reply(x, 200, `Purged ${n}\n`)
  }

  /** Applies `rule` here and sends it to the other workers; returns how many responses went here. */
  #broadcast(rule: PurgeRule): number {
    const n = this.#apply(rule)
    // Each purge is a new value, so that the same rule sent twice is applied twice.
    this.#shared?.set(this.#purgeKey, { rule, id: `${process.pid}-${++purgeCount}` })
    this.#group?.purges.publish(this.#purgeKey, rule)
    return n
  }

  #apply(rule: PurgeRule, fromElsewhere = false): number {
    const test = (url: string, tags: readonly string[]) => purges(rule, url, tags)
    const n = this.#store.delete(test)
    return this.#disk ? Math.max(n, this.#disk.delete(test, fromElsewhere)) : n
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

  /** The request's Cache-Control, or none when the route ignores it; Pragma: no-cache stands in when it has none (RFC 9111 §5.4). */
  #requestDirectives(x: Exchange): Map<string, string | true> {
    if (this.#config.ignore_client_cache_control) return none
    const h = x.req.headers
    if (h['cache-control'] !== undefined) return directives(h['cache-control'])
    const pragma = h.pragma
    return pragma !== undefined && /(?:^|,)\s*no-cache\s*(?:,|$)/i.test(pragma) ? noCache : none
  }

  #bypassed(x: Exchange): boolean {
    if (!this.#config.methods.includes(x.req.method as 'GET')) return true
    const b = this.#config.bypass
    for (const name of b.headers) if (x.req.headers[name.toLowerCase()] !== undefined) return true
    if (b.cookies.length === 0) return false
    const cookie = x.req.headers.cookie
    return cookie !== undefined && b.cookies.some((name) => cookieValue(cookie, name) !== undefined)
  }
}

// RFC 9110 §9.2.1: the safe methods; a successful request with any other invalidates (RFC 9111 §4.4).
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

let purgeCount = 0

// RFC 5861 §4: the errors stale-if-error covers.
const errorStatuses = new Set([500, 502, 503, 504])

const noCache = new Map<string, string | true>([['no-cache', true]])

/** Adds the cache's own validators to the request sent to the backend; false when the entry has none. */
function addValidators(x: Exchange, e: Entry): boolean {
  const etag = field(e.headers, 'etag')
  const lastModified = field(e.headers, 'last-modified')
  if (etag === undefined && lastModified === undefined) return false
  // The backend request is built from the raw list; the parsed object is kept in step for the phases.
  const raw = x.req.rawHeaders as string[]
  if (etag !== undefined) {
    raw.push('if-none-match', etag)
    x.req.headers['if-none-match'] = etag
  }
  if (lastModified !== undefined) {
    raw.push('if-modified-since', lastModified)
    x.req.headers['if-modified-since'] = lastModified
  }
  return true
}

/** The head of a 304: the stored one without the body's length (RFC 9110 §15.4.5). */
function withoutLength(headers: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() !== 'content-length') out.push(headers[i]!, headers[i + 1]!)
  }
  return out
}

/** Sends a stored body in place of the (empty) body of the response it stands for. */
class StoredBody extends Transform {
  readonly #body: Buffer

  constructor(body: Buffer) {
    super()
    this.#body = body
  }

  override _transform(_chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback()
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.#body.length > 0 ? this.#body : undefined)
  }
}

function contentLength(headers: readonly string[]): number | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === 'content-length') return Number(headers[i + 1])
  }
  return undefined
}
