import { connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { FailureCode } from '../errors.ts'
import type { Exchange } from '../exchange.ts'
import { backendRequestHeaders } from '../http/proxy-headers.ts'
import { respondError } from '../respond.ts'
import { classify } from './classify.ts'
import type { Pool } from './pool.ts'
import type { Server } from './server.ts'

/** Client sockets of open tunnels, so that shutdown can close them after its grace period. */
export type TunnelSet = Set<Duplex>

/**
 * Tunnels an `Upgrade` request (WebSocket) to a server of `pool` over a raw socket. Until the
 * backend connection is open, failures are answered like any other exchange (502 refused, 504
 * connect timeout, 503 no server) and the caller logs them when that answer is written. Once open,
 * the request head goes to the backend and bytes pass both ways untouched (the backend's 101, or
 * its refusal, included); either side closing closes the other, and a tunnel with no traffic either
 * way for `idleMs` is closed. `done` runs once when an opened tunnel, or one its client left while
 * connecting, is gone.
 */
export function tunnel(
  x: Exchange,
  pool: Pool,
  head: Buffer,
  idleMs: number,
  tunnels: TunnelSet,
  done: () => void,
): void {
  x.pool = pool
  const server = pool.pick(x, undefined)
  if (!server) {
    respondError(x, 'no_server')
    return
  }
  x.server = server
  x.attempts = 1
  new Tunnel(x, pool, server, head, idleMs, tunnels, done)
}

/** One tunnel's sockets and state: connecting, then open, then closed. */
class Tunnel {
  readonly #x: Exchange
  readonly #pool: Pool
  readonly #server: Server
  readonly #head: Buffer
  readonly #idleMs: number
  readonly #tunnels: TunnelSet
  readonly #done: () => void
  readonly #client: Socket
  readonly #backend: Socket
  readonly #sentAt = performance.now()
  #state: 'connecting' | 'open' | 'closed' = 'connecting'

  constructor(
    x: Exchange,
    pool: Pool,
    server: Server,
    head: Buffer,
    idleMs: number,
    tunnels: TunnelSet,
    done: () => void,
  ) {
    this.#x = x
    this.#pool = pool
    this.#server = server
    this.#head = head
    this.#idleMs = idleMs
    this.#tunnels = tunnels
    this.#done = done
    this.#client = x.req.socket
    // The socket timeout covers connecting; once open it becomes the idle timeout.
    this.#backend = connect({ host: server.host, port: server.port, timeout: pool.timeouts.connectMs })
    this.#backend.once('connect', () => this.#open())
    this.#backend.on('timeout', () => (this.#state === 'connecting' ? this.#fail('connect_timeout') : this.#kill()))
    this.#backend.on('error', (err) => (this.#state === 'connecting' ? this.#fail(classify(err)) : this.#kill()))
    this.#backend.on('close', () => this.#close())
    this.#client.on('error', () => this.#kill())
    this.#client.on('close', () => this.#close())
    tunnels.add(this.#client)
  }

  #open(): void {
    if (this.#state !== 'connecting') return
    this.#state = 'open'
    const x = this.#x
    const client = this.#client
    const backend = this.#backend
    x.res.detachSocket(client)
    const headers = backendRequestHeaders(x, this.#pool.hostHeader)
    let text = `${x.req.method} ${x.path} HTTP/1.1\r\n`
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`
    text += `connection: upgrade\r\nupgrade: ${x.req.headers.upgrade}\r\n\r\n`
    backend.write(text)
    if (this.#head.length > 0) backend.write(this.#head)
    backend.setTimeout(this.#idleMs)
    client.setTimeout(this.#idleMs, () => this.#kill())
    backend.once('data', (chunk: Buffer) => {
      x.backendMs = performance.now() - this.#sentAt
      // The status of the backend's answer, for the log: 101, or its refusal.
      if (chunk.length >= 12 && chunk.toString('latin1', 0, 5) === 'HTTP/')
        x.status = Number(chunk.toString('latin1', 9, 12))
    })
    backend.on('data', (chunk: Buffer) => {
      x.bytesOut += chunk.length
    })
    client.on('data', (chunk: Buffer) => {
      x.bytesIn += chunk.length
    })
    backend.pipe(client)
    client.pipe(backend)
  }

  /** Before the backend connection opened: answer the client, who is still waiting for a response. */
  #fail(code: FailureCode): void {
    if (this.#state !== 'connecting') return
    this.#state = 'closed'
    this.#tunnels.delete(this.#client)
    this.#backend.destroy()
    this.#pool.release(this.#server, { ok: false })
    respondError(this.#x, code)
  }

  /** Idle, or a socket failed: both sockets go at once. */
  #kill(): void {
    this.#close()
    this.#client.destroy()
    this.#backend.destroy()
  }

  /** One side closed: the other is ended once what it was sent is flushed (a WebSocket close frame). */
  #close(): void {
    if (this.#state === 'closed') return
    const x = this.#x
    if (this.#state === 'connecting') x.outcome = 'client_aborted'
    this.#state = 'closed'
    this.#tunnels.delete(this.#client)
    shut(this.#client)
    shut(this.#backend)
    this.#pool.release(this.#server, { ok: x.outcome === 'ok' })
    this.#done()
  }
}

/**
 * Ends a socket once what was written to it is flushed, then frees it; at once when it is broken.
 * One that never flushes is freed by its idle timeout.
 */
function shut(socket: Duplex): void {
  if (socket.destroyed) return
  if (socket.writableFinished || socket.errored) {
    socket.destroy()
    return
  }
  socket.once('finish', () => socket.destroy())
  socket.end()
}
