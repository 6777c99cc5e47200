import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
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
  /**
   * A fixed total rate in requests per second, instead of as fast as the contender answers, so that
   * latencies compare at the same load. Driven by autocannon, which can hold a rate.
   */
  readonly rate?: number
}

/** Drives a load of `shape` requests and measures it. */
export type Drive = (options: LoadOptions) => Promise<LoadResult>

/** HTTP load with wrk, or autocannon where wrk is not installed. */
export function http(shape: HttpShape): Drive {
  return (o) => (o.tool === 'wrk' && shape.rate === undefined ? wrk(shape, o) : autocannon(shape, o))
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
  if (shape.method === 'POST') {
    const script = join(o.dir, `post-${shape.bodyBytes ?? 0}.lua`)
    writeFileSync(
      script,
      `wrk.method = "POST"\nwrk.body = string.rep("x", ${shape.bodyBytes ?? 0})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`,
    )
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
