import type { Exchange } from '../exchange.ts'
import { Histogram } from './histogram.ts'
import type { Sample } from './sample.ts'

const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'other'] as const
const classes = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'] as const
const cacheResults = ['hit', 'stale', 'miss', 'bypass', 'purge'] as const

/** One route's exchanges to one server (or to none: pool and server ""). */
interface ServerCell {
  /** Counts by method × status class. */
  readonly requests: Float64Array
  bytesIn: number
  bytesOut: number
}

/** Everything counted for one route. */
interface RouteCell {
  readonly duration: Histogram
  /** By pool name, then server address. */
  readonly pools: Map<string, Map<string, ServerCell>>
  /** By cache result, in the order of `cacheResults`. */
  readonly cache: Float64Array
}

/**
 * The counts of one serving process, kept for its whole life (across reloads): `record` is called
 * once per finished exchange and only adds to plain numbers, keyed by names from the config;
 * `samples` turns them into metric samples when a scrape asks. Routes, pools and servers come
 * from the config, so the number of label sets is bounded by it.
 */
export class Meter {
  readonly #routes = new Map<string, RouteCell>()
  /** Time to the response head, by pool, then server. */
  readonly #backend = new Map<string, Map<string, Histogram>>()
  readonly #queueWait = new Map<string, Histogram>()
  /** Retries by pool, then failure code. */
  readonly #retries = new Map<string, Map<string, number>>()

  /** Counts a finished exchange: its route, server, status class, bytes, timings and retries. */
  record(x: Exchange): void {
    const routeName = x.route?.name ?? ''
    let route = this.#routes.get(routeName)
    if (route === undefined) {
      route = { duration: new Histogram(), pools: new Map(), cache: new Float64Array(cacheResults.length) }
      this.#routes.set(routeName, route)
    }
    route.duration.observe(performance.now() - x.start)
    const poolName = x.pool?.name ?? ''
    let servers = route.pools.get(poolName)
    if (servers === undefined) {
      servers = new Map()
      route.pools.set(poolName, servers)
    }
    const address = x.server?.address ?? ''
    let cell = servers.get(address)
    if (cell === undefined) {
      cell = { requests: new Float64Array(methods.length * classes.length), bytesIn: 0, bytesOut: 0 }
      servers.set(address, cell)
    }
    const status = x.status
    const statusClass = status >= 100 && status < 600 ? (status / 100) | 0 : 0
    cell.requests[methodIndex(x.req.method) * classes.length + statusClass]!++
    cell.bytesIn += x.bytesIn
    cell.bytesOut += x.bytesOut
    if (x.cache !== '') route.cache[cacheIndex(x.cache)]!++
    if (x.backendMs >= 0 && x.server !== undefined)
      this.#histogram(this.#backend, poolName, address).observe(x.backendMs)
    if (x.queueMs >= 0) {
      let wait = this.#queueWait.get(poolName)
      if (wait === undefined) {
        wait = new Histogram()
        this.#queueWait.set(poolName, wait)
      }
      wait.observe(x.queueMs)
    }
    if (x.retries !== undefined) {
      let reasons = this.#retries.get(poolName)
      if (reasons === undefined) {
        reasons = new Map()
        this.#retries.set(poolName, reasons)
      }
      for (const code of x.retries) reasons.set(code, (reasons.get(code) ?? 0) + 1)
    }
  }

  /** Appends every count as samples (totals since the process started). */
  samples(out: Sample[]): void {
    for (const [route, cell] of this.#routes) {
      cell.duration.samples('portico_request_duration_seconds', { route }, out)
      for (let i = 0; i < cacheResults.length; i++) {
        if (cell.cache[i]! > 0)
          out.push(['portico_cache_requests_total', { route, result: cacheResults[i]! }, cell.cache[i]!])
      }
      for (const [pool, servers] of cell.pools) {
        for (const [server, s] of servers) {
          const where = { route, pool, server }
          out.push(['portico_received_bytes_total', where, s.bytesIn])
          out.push(['portico_sent_bytes_total', where, s.bytesOut])
          for (let i = 0; i < s.requests.length; i++) {
            const n = s.requests[i]!
            if (n === 0) continue
            const method = methods[(i / classes.length) | 0]!
            const status_class = classes[i % classes.length]!
            out.push(['portico_requests_total', { ...where, method, status_class }, n])
          }
        }
      }
    }
    for (const [pool, servers] of this.#backend) {
      for (const [server, h] of servers) h.samples('portico_backend_response_seconds', { pool, server }, out)
    }
    for (const [pool, h] of this.#queueWait) h.samples('portico_queue_wait_seconds', { pool }, out)
    for (const [pool, reasons] of this.#retries) {
      for (const [reason, n] of reasons) out.push(['portico_retries_total', { pool, reason }, n])
    }
  }

  #histogram(map: Map<string, Map<string, Histogram>>, pool: string, server: string): Histogram {
    let servers = map.get(pool)
    if (servers === undefined) {
      servers = new Map()
      map.set(pool, servers)
    }
    let h = servers.get(server)
    if (h === undefined) {
      h = new Histogram()
      servers.set(server, h)
    }
    return h
  }
}

function methodIndex(method: string | undefined): number {
  switch (method) {
    case 'GET':
      return 0
    case 'HEAD':
      return 1
    case 'POST':
      return 2
    case 'PUT':
      return 3
    case 'DELETE':
      return 4
    case 'PATCH':
      return 5
    case 'OPTIONS':
      return 6
    default:
      return 7
  }
}

function cacheIndex(result: string): number {
  const i = (cacheResults as readonly string[]).indexOf(result)
  return i < 0 ? 2 : i
}
