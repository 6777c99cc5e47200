import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { type IncomingMessage, request } from 'node:http'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { pinned } from './pin.ts'

const run = promisify(execFile)

/** What one load run measured. */
export interface LoadResult {
  /** Requests (or WebSocket messages) answered. */
  readonly requests: number
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** Failed connections, timeouts and non-2xx answers. */
  readonly errors: number
}

/** How a load run is made: where, how long, how many connections, on which CPUs. */
export interface LoadOptions {
  /** `http://host:port` of the contender. */
  readonly url: string
  /** `ws://host:port/ws` of the contender. */
  readonly wsUrl: string
  /** `https://host:port` of the contender's TLS and HTTP/2 listener, when it has one. */
  readonly tlsUrl: string | undefined
  readonly seconds: number
  readonly connections: number
  readonly cpus: string | undefined
  /** A scratch directory for scripts. */
  readonly dir: string
  /** `wrk` when installed, else `autocannon`. */
  readonly tool: 'wrk' | 'autocannon'
}

/** One HTTP request shape, sent over and over. */
export interface HttpShape {
  readonly path: string
  readonly method?: 'GET' | 'POST'
  readonly bodyBytes?: number
  /** A new connection for every request (`Connection: close`). */
  readonly close?: boolean
  /** Request headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>>
  /**
   * The answer must come compressed: one request checks its `Content-Encoding` before the load, so
   * a contender that sends the body as it is fails the round instead of winning it.
   */
  readonly compressed?: boolean
  /**
   * A fixed total rate in requests per second, instead of as fast as the contender answers, so that
   * latencies compare at the same load. wrk holds it with a random pause before each request on
   * every connection and measures in microseconds; autocannon holds it with `-R`, in whole ms.
   */
  readonly rate?: number
}

/** Drives a load of `shape` requests and measures it. */
export type Drive = (options: LoadOptions) => Promise<LoadResult>

/** HTTP load with wrk, or autocannon where wrk is not installed. */
export function http(shape: HttpShape): Drive {
  return async (o) => {
    if (shape.compressed) await mustBeCompressed(`${o.url}${shape.path}`, shape.headers)
    return o.tool === 'wrk' ? wrk(shape, o) : autocannon(shape, o)
  }
}

async function mustBeCompressed(url: string, headers: Readonly<Record<string, string>> = {}): Promise<void> {
  const req = request(url, { headers })
  req.end()
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  res.resume()
  await once(res, 'end')
  const coding = res.headers['content-encoding']
  if (!coding || coding === 'identity') throw new Error(`${url} answered without Content-Encoding`)
}

/**
 * HTTP/2 over TLS with h2load (Debian's nghttp2-client): GETs of `path` with `streams` in flight on
 * each connection, over enough connections that as many requests are in flight as the other
 * scenarios have connections.
 */
export function h2(path: string, streams: number): Drive {
  return async (o) => {
    if (!o.tlsUrl) throw new Error('no TLS listener')
    const log = join(o.dir, 'h2load.log')
    rmSync(log, { force: true })
    const clients = Math.max(1, Math.ceil(o.connections / streams))
    const args = ['-t1', `-c${clients}`, `-m${streams}`, `-D${o.seconds}`, '--log-file', log, `${o.tlsUrl}${path}`]
    const [cmd, all] = pinned(o.cpus, 'h2load', args)
    // h2load now and then keeps sending long past its duration (-D): such a round is stopped and fails.
    const timeout = (o.seconds + 30) * 1000
    const { stdout } = await run(cmd, all, { maxBuffer: 1 << 20, timeout, killSignal: 'SIGKILL' })
    return h2loadResult(stdout, readFileSync(log, 'utf8'))
  }
}

/**
 * What h2load measured: rates and failures from its summary, latency percentiles from its
 * `--log-file` (one line per request: start, status, microseconds until the response ended), since
 * its summary has no percentiles.
 */
export function h2loadResult(stdout: string, log: string): LoadResult {
  const requests = /requests: \d+ total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed/.exec(stdout)
  const rps = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(stdout)
  if (!requests || !rps) throw new Error(`h2load printed no summary:\n${stdout}`)
  const latencies = log
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => Number(line.split('\t')[2]) / 1000)
    .sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN
  return {
    requests: Number(requests[1]),
    rps: Number(rps[1]),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    // h2load's `failed` counts answers of 4xx and 5xx as well as reset streams and broken connections.
    errors: Number(requests[2]),
  }
}

/** WebSocket echo load: each connection sends a message of `bytes`, waits for its echo, and again. */
export function websocket(bytes: number): Drive {
  return async (o) => {
    const script = new URL('./ws-load.ts', import.meta.url).pathname
    const [cmd, args] = pinned(o.cpus, process.execPath, [
      script,
      o.wsUrl,
      `${o.connections}`,
      `${o.seconds}`,
      `${bytes}`,
    ])
    const { stdout } = await run(cmd, args, { maxBuffer: 1 << 20 })
    return JSON.parse(stdout) as LoadResult
  }
}

async function wrk(shape: HttpShape, o: LoadOptions): Promise<LoadResult> {
  const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--latency', '--timeout', '5s']
  if (shape.close) args.push('-H', 'Connection: close')
  for (const [name, value] of Object.entries(shape.headers ?? {})) args.push('-H', `${name}: ${value}`)
  const lua = wrkScript(shape, o.connections)
  if (lua) {
    const script = join(o.dir, 'wrk.lua')
    writeFileSync(script, lua)
    args.push('-s', script)
  }
  const [cmd, all] = pinned(o.cpus, 'wrk', [...args, `${o.url}${shape.path}`])
  const { stdout } = await run(cmd, all)
  const number = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? 0)
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout)
  return {
    requests: number(/(\d+) requests in/),
    rps: number(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: duration(/ 50%\s+([\d.]+\w+)/.exec(stdout)?.[1]),
    p99Ms: duration(/ 99%\s+([\d.]+\w+)/.exec(stdout)?.[1]),
    errors:
      number(/Non-2xx or 3xx responses: (\d+)/) +
      (socketErrors ? socketErrors.slice(1).reduce((n, v) => n + Number(v), 0) : 0),
  }
}

/**
 * The Lua script for wrk, if the shape needs one: a POST body, or a pause before each request that
 * holds the rate (the same pseudo-random sequence for every contender). wrk starts the latency
 * clock when the request is written, so the pause is not part of it.
 */
export function wrkScript(shape: HttpShape, connections: number): string | undefined {
  if (shape.method === 'POST') {
    return `wrk.method = "POST"\nwrk.body = string.rep("x", ${shape.bodyBytes ?? 0})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`
  }
  if (shape.rate !== undefined) {
    // Drawn at random around the mean: equal pauses would keep the connections in step, all sending
    // at once, so that every request waited behind the rest of its burst.
    const meanMs = (connections * 1000) / shape.rate
    return `function delay()\n  return math.random(0, ${Math.round(2 * meanMs)})\nend\n`
  }
  return undefined
}

/** wrk's `1.23ms`, `456.00us`, `1.01s` in milliseconds. */
function duration(text: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? '')
  if (!m) return Number.NaN
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2] as 'us' | 'ms' | 's' | 'm']
}

async function autocannon(shape: HttpShape, o: LoadOptions): Promise<LoadResult> {
  const bin = new URL('../node_modules/autocannon/autocannon.js', import.meta.url).pathname
  const args = [bin, '-j', '-c', `${o.connections}`, '-d', `${o.seconds}`]
  if (shape.close) args.push('-H', 'connection=close')
  for (const [name, value] of Object.entries(shape.headers ?? {})) args.push('-H', `${name}=${value}`)
  if (shape.rate !== undefined) args.push('-R', `${shape.rate}`)
  if (shape.method === 'POST') args.push('-m', 'POST', '-b', 'x'.repeat(shape.bodyBytes ?? 0))
  const [cmd, all] = pinned(o.cpus, process.execPath, [...args, `${o.url}${shape.path}`])
  const { stdout } = await run(cmd, all, { maxBuffer: 16 << 20 })
  const r = JSON.parse(stdout) as {
    requests: { total: number; average: number }
    latency: { p50: number; p99: number }
    non2xx: number
    errors: number
    timeouts: number
    duration: number
  }
  return {
    requests: r.requests.total,
    rps: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.non2xx + r.errors + r.timeouts,
  }
}
