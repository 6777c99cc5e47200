import type { ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { FailureCode } from '../errors.ts'
import type { Exchange } from '../exchange.ts'
import { backendRequestHeaders } from '../http/proxy-headers.ts'
import { respondError } from '../respond.ts'
import { classify } from './classify.ts'
import type { Pool, Ticket } from './pool.ts'
import { mayRetry } from './retry.ts'
import type { Server } from './server.ts'

/**
 * Tunnels an `Upgrade` request (WebSocket) to a server of `pool` over a raw socket. The server is
 * found as a request's is: under `max_conns` and `max_in_flight`, waiting in the pool's queue when
 * all are full, and a failed connect is tried again on another server within the pool's retry
 * attempts and budget. Until the first byte of the backend's answer, failures are answered like any
 * other exchange (503 no server or queue, 502 refused or hung up, 504 connect or response timeout)
 * and the caller logs them when that answer is written. From that byte on, bytes pass both ways
 * untouched (the backend's 101, or its refusal); either side closing closes the other, and a tunnel
 * with no traffic either way for `idleMs` is closed. `done` runs once when a tunnel the caller does
 * not log is gone.
 */
export function tunnel(x: Exchange, pool: Pool, head: Buffer, idleMs: number, done: () => void): void {
  x.pool = pool
  pool.retries.budget.earn()
  pool.acquire(new Tunnel(x, head, idleMs, done))
}

/**
 * One tunnel's sockets and state: waiting for a server (the pool's ticket), connecting, waiting for
 * the backend's answer, open, then closed; or answered by Portico when no backend answered.
 */
class Tunnel implements Ticket {
  readonly x: Exchange
  tried: Server[] | undefined
  readonly #head: Buffer
  readonly #idleMs: number
  readonly #done: () => void
  readonly #client: Socket
  #pool: Pool | undefined
  #server: Server | undefined
  /** The connection of the current attempt; one that failed is left behind on a retry. */
  #backend: Socket | undefined
  #sentAt = 0
  #state: 'queued' | 'connecting' | 'waiting' | 'open' | 'closed' | 'answered' = 'queued'

  constructor(x: Exchange, head: Buffer, idleMs: number, done: () => void) {
    this.x = x
    this.#head = head
    this.#idleMs = idleMs
    this.#done = done
    this.#client = x.req.socket
    this.#client.on('error', () => this.#kill())
    this.#client.on('close', () => this.#close())
  }

  /** `pool` found a server (Ticket): connects to it. */
  start(server: Server, pool: Pool): void {
    const x = this.x
    this.#state = 'connecting'
    this.#pool = pool
    this.#server = server
    x.pool = pool
    x.server = server
    x.attempts++
    this.#sentAt = performance.now()
    // The socket timeout covers connecting, then waiting for the answer, then idling.
    const backend = connect({ host: server.host, port: server.port, timeout: pool.timeouts.connectMs })
    this.#backend = backend
    backend.once('connect', () => this.#send())
    backend.on('timeout', () => backend === this.#backend && this.#backendTimeout())
    backend.on('error', (err) => backend === this.#backend && this.#backendError(err))
    // A backend that hangs up before answering refused the upgrade.
    backend.on('close', () => backend === this.#backend && this.#backendClosed())
  }

  /** The pool has no server for this tunnel (Ticket): 503, with `Retry-After`. */
  fail(code: FailureCode, headers: Readonly<Record<string, string>>): void {
    this.#state = 'answered'
    respondError(this.x, code, headers)
  }

  /** Connected: sends the request head and whatever the client sent after it. */
  #send(): void {
    if (this.#state !== 'connecting') return
    this.#state = 'waiting'
    const x = this.x
    const client = this.#client
    const backend = this.#backend!
    const headers = backendRequestHeaders(x, this.#pool!.hostHeader)
    let text = `${x.req.method} ${x.path} HTTP/1.1\r\n`
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`
    text += `connection: upgrade\r\nupgrade: ${x.req.headers.upgrade}\r\n\r\n`
    backend.write(text)
    if (this.#head.length > 0) backend.write(this.#head)
    backend.setTimeout(this.#pool!.timeouts.responseHeadersMs)
    client.setTimeout(this.#idleMs, () => this.#kill())
    backend.once('data', (chunk: Buffer) => this.#answered(chunk))
    client.on('data', (chunk: Buffer) => {
      x.bytesIn += chunk.length
    })
    client.pipe(backend)
  }

  /** The first bytes of the backend's answer (its 101, or its refusal): from here on, bytes pass untouched. */
  #answered(first: Buffer): void {
    if (this.#state !== 'waiting') return
    this.#state = 'open'
    const x = this.x
    const client = this.#client
    const backend = this.#backend!
    x.backendMs = performance.now() - this.#sentAt
    if (first.length >= 12 && first.toString('latin1', 0, 5) === 'HTTP/')
      x.status = Number(first.toString('latin1', 9, 12))
      // Upgrades come only from HTTP/1.1 connections, whose responses are node:http ones.
    ;(x.res as ServerResponse).detachSocket(client)
    backend.setTimeout(this.#idleMs)
    x.bytesOut += first.length
    client.write(first)
    backend.on('data', (chunk: Buffer) => {
      x.bytesOut += chunk.length
    })
    backend.pipe(client)
  }

  #backendTimeout(): void {
    if (this.#state === 'connecting') this.#fail('connect_timeout')
    else if (this.#state === 'waiting') this.#fail('backend_timeout')
    else this.#kill()
  }

  #backendError(err: Error): void {
    if (this.#state === 'open') this.#kill()
    else this.#fail(classify(err))
  }

  #backendClosed(): void {
    if (this.#state === 'waiting') this.#fail('backend_reset')
    else this.#close()
  }

  /**
   * Nothing of the backend's answer reached the client. A connect that failed sent nothing, so
   * another server may take the tunnel, as it would a request; otherwise answer (502, 504).
   */
  #fail(code: FailureCode): void {
    if (this.#state !== 'connecting' && this.#state !== 'waiting') return
    const x = this.x
    const pool = this.#pool!
    const server = this.#server!
    const connecting = this.#state === 'connecting'
    this.#client.unpipe(this.#backend)
    this.#client.setTimeout(0)
    this.#backend!.destroy()
    pool.release(server, { ok: false, code })
    if (connecting && x.attempts < pool.retries.attempts && mayRetry(x, code, null) && pool.retries.budget.spend()) {
      x.retried = code
      this.tried = this.tried ? [...this.tried, server] : [server]
      this.#state = 'queued'
      pool.acquire(this)
      return
    }
    this.#state = 'answered'
    // The pipeline ends the client socket and logs the exchange once this answer is written.
    respondError(x, code)
  }

  /** Idle, or a socket failed: both sockets go at once. */
  #kill(): void {
    if (this.#state === 'answered') return
    this.#close()
    this.#client.destroy()
    this.#backend?.destroy()
  }

  /**
   * One side closed: the other is ended once what it was sent is flushed (a WebSocket close frame).
   * A client that leaves while its tunnel waits for a server is dropped from the pool's queue.
   */
  #close(): void {
    if (this.#state === 'closed' || this.#state === 'answered') return
    const x = this.x
    if (this.#state !== 'open') x.outcome = 'client_aborted'
    const queued = this.#state === 'queued'
    this.#state = 'closed'
    shut(this.#client)
    if (queued) x.abort.abort()
    else {
      shut(this.#backend!)
      this.#pool!.release(this.#server!, { ok: x.outcome === 'ok' })
    }
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
