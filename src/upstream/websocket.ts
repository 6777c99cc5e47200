import { type ClientRequest, type IncomingMessage, request } from 'node:http'
import { connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { respondError } from '../answer/respond.ts'
import type { FailureCode } from '../errors.ts'
import type { UpgradeExchange } from '../exchange.ts'
import { backendRequestHeaders } from '../http/proxy-headers.ts'
import { upgradeAccepted } from '../http/upgrade.ts'
import { classify } from './classify.ts'
import type { Pool, Ticket } from './pool/pool.ts'
import { retryCharge } from './retry.ts'
import type { Server } from './server.ts'
import { relayAnswer, shut, splice } from './splice.ts'

// Client bytes held while the backend has not yet switched protocols; past this, the client is
// read no further until it has (a WebSocket client sends nothing before the 101, RFC 6455 §4.1).
const maxHeldBytes = 64 * 1024

/**
 * Tunnels an `Upgrade` request (WebSocket) to a server of `pool` over a connection of its own,
 * asking for the protocols in `offer`. The server is found as a request's is: under `max_conns`
 * and `max_in_flight`, waiting in the pool's queue when all are full, and a failed connect is tried
 * again on another server within the pool's retry attempts and budget. Until the backend answers,
 * failures are answered like any other exchange (503 no server or queue, 502 refused or hung up,
 * 504 connect or response timeout) and the caller logs them when that answer is written.
 *
 * Only a `101 Switching Protocols` whose `Upgrade` names an offered protocol opens the tunnel: then,
 * and not before, what the client sent after its request goes to the backend, and bytes pass both
 * ways untouched; either side closing closes the other, and a tunnel with no traffic either way for
 * `idleMs` is closed. Any other answer is relayed as an ordinary response (through the route's
 * response phases), after which the backend connection is closed and the client's with it: what
 * the client sent after its request never reaches the backend. A 101 for another protocol gets 502.
 * `done` runs once the exchange is over; it may run more than once.
 */
export function tunnel(
  x: UpgradeExchange,
  pool: Pool,
  head: Buffer,
  offer: string,
  idleMs: number,
  done: () => void,
): void {
  x.pool = pool
  pool.retries.budget.earn()
  pool.acquire(new Tunnel(x, head, offer, idleMs, done))
}

/**
 * One tunnel's sockets and state: waiting for a server (the pool's ticket), connecting, waiting for
 * the backend's answer, then open, or relaying a refusal; closed once either side is gone, or
 * answered by Portico when no backend answered.
 */
class Tunnel implements Ticket {
  readonly x: UpgradeExchange
  tried: Server[] | undefined
  readonly #offer: string
  readonly #idleMs: number
  readonly #done: () => void
  readonly #client: Socket
  /** What the client sent after its request head, held until the backend switches protocols. */
  readonly #held: Buffer[]
  #heldBytes: number
  #pool: Pool | undefined
  #server: Server | undefined
  /** The connection of the current attempt; one that failed is left behind on a retry. */
  #backend: Socket | undefined
  #sentAt = 0
  #released = false
  #state: 'queued' | 'connecting' | 'waiting' | 'open' | 'relaying' | 'closed' | 'answered' = 'queued'

  constructor(x: UpgradeExchange, head: Buffer, offer: string, idleMs: number, done: () => void) {
    this.x = x
    this.#offer = offer
    this.#idleMs = idleMs
    this.#done = done
    this.#held = head.length > 0 ? [head] : []
    this.#heldBytes = head.length
    const client = x.req.socket
    this.#client = client
    client.on('error', () => this.#kill())
    client.on('close', () => this.#close())
    // Reading on sees a client that leaves while the tunnel waits; what it sends is only held.
    client.on('data', this.#hold)
    client.on('end', this.#clientEnded)
  }

  /** `pool` found a server (Ticket): connects to it and sends the request head. */
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
    backend.once('connect', () => this.#connected(backend))
    backend.on('timeout', () => backend === this.#backend && this.#backendTimeout())
    backend.on('error', (err) => backend === this.#backend && this.#backendError(err))
    // A backend that hangs up before answering refused the upgrade.
    backend.on('close', () => backend === this.#backend && this.#backendClosed())
    const headers = backendRequestHeaders(x, pool.hostHeader)
    headers.push('connection', 'upgrade', 'upgrade', this.#offer)
    let req: ClientRequest
    try {
      // node's client writes the head once connected and reads the answer with node's strict parser.
      req = request({ createConnection: () => backend, method: x.req.method, path: x.path, headers, setHost: false })
    } catch (err) {
      this.#fail(classify(err))
      return
    }
    req.on('upgrade', (res: IncomingMessage, _socket: Duplex, rest: Buffer) => {
      if (backend === this.#backend) this.#switched(res, rest)
    })
    req.on('response', (res: IncomingMessage) => {
      if (backend === this.#backend) this.#refused(res)
      else res.destroy()
    })
    // Connection errors come as the socket's too; a malformed answer comes only here (HPE_*).
    req.on('error', (err) => backend === this.#backend && this.#backendError(err))
    req.end()
  }

  /** The pool has no server for this tunnel (Ticket): 503, with `Retry-After`. */
  fail(code: FailureCode, headers: Readonly<Record<string, string>>): void {
    this.#state = 'answered'
    respondError(this.x, code, headers)
  }

  /** Connected: the head is on its way; the answer is awaited. */
  #connected(backend: Socket): void {
    if (this.#state !== 'connecting' || backend !== this.#backend) return
    this.#state = 'waiting'
    backend.setTimeout(this.#pool!.timeouts.responseHeadersMs)
  }

  readonly #hold = (chunk: Buffer): void => {
    const state = this.#state
    // Once relaying or answered, the connection ends: what the client sends then is dropped.
    if (state !== 'queued' && state !== 'connecting' && state !== 'waiting') return
    this.#held.push(chunk)
    this.#heldBytes += chunk.length
    if (this.#heldBytes > maxHeldBytes) this.#client.pause()
  }

  /** The client ended its side before the tunnel opened: it is taken to have left. */
  readonly #clientEnded = (): void => {
    if (this.#state !== 'open') this.#kill()
  }

  /**
   * The backend answered 101: the tunnel opens if it switched to a protocol offered, with the held
   * client bytes sent first; a switch to anything else is a broken answer (502).
   */
  #switched(res: IncomingMessage, rest: Buffer): void {
    if (this.#state !== 'waiting') return
    if (!upgradeAccepted(res.headers.upgrade, this.#offer)) {
      this.#fail('backend_error')
      return
    }
    this.#state = 'open'
    const x = this.x
    const client = this.#client
    const backend = this.#backend!
    client.off('data', this.#hold)
    client.off('end', this.#clientEnded)
    x.backendMs = performance.now() - this.#sentAt
    splice(x, client, backend, res, rest, this.#held.splice(0), this.#heldBytes, this.#idleMs, () => this.#kill())
  }

  /**
   * The backend answered without switching: its answer goes to the client as an ordinary response,
   * with backpressure. The backend connection is never used raw, and closes when the answer ends.
   */
  #refused(res: IncomingMessage): void {
    if (this.#state !== 'waiting') {
      res.destroy()
      return
    }
    // A 101 without `Connection: upgrade` switches nothing node can tell; the client cannot be told either.
    if (res.statusCode! < 200) {
      this.#fail('backend_error')
      return
    }
    this.#state = 'relaying'
    this.#dropHeld()
    const x = this.x
    const backend = this.#backend!
    x.backendMs = performance.now() - this.#sentAt
    backend.setTimeout(this.#pool!.timeouts.bodyIdleMs)
    relayAnswer(x, res, (out) => {
      if (this.#state !== 'relaying') return
      this.#state = 'answered'
      this.#release(true, undefined)
      backend.destroy()
      out.end()
    })
  }

  #backendTimeout(): void {
    if (this.#state === 'connecting') this.#fail('connect_timeout')
    else if (this.#state === 'waiting') this.#fail('backend_timeout')
    else if (this.#state === 'relaying') this.#cut('backend_timeout')
    else this.#kill()
  }

  #backendError(err: Error): void {
    if (this.#state === 'open') this.#kill()
    else if (this.#state === 'relaying') this.#cut(classify(err))
    else this.#fail(classify(err))
  }

  #backendClosed(): void {
    if (this.#state === 'waiting' || this.#state === 'connecting') this.#fail('backend_reset')
    else if (this.#state === 'relaying') this.#cut('backend_reset')
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
    this.#backend!.destroy()
    this.#release(false, code)
    const tried = this.tried ? [...this.tried, server] : [server]
    const charged = connecting ? retryCharge(x, code, null, pool, tried) : undefined
    // A tunnel holds no slot of the budget while it lasts: a charged retry spends one at once.
    if (charged !== undefined && (!charged || pool.retries.budget.spend())) {
      x.retried = code
      this.tried = tried
      this.#state = 'queued'
      this.#released = false
      pool.acquire(this)
      return
    }
    this.#state = 'answered'
    this.#dropHeld()
    // The pipeline ends the client socket and logs the exchange once this answer is written.
    respondError(x, code)
  }

  /** The backend's answer broke off while it was being relayed: the client sees it cut. */
  #cut(code: FailureCode): void {
    if (this.#state !== 'relaying') return
    this.#state = 'answered'
    this.#backend!.destroy()
    this.#release(false, code)
    respondError(this.x, code)
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
    this.#dropHeld()
    shut(this.#client)
    if (queued) x.abort.abort()
    else {
      shut(this.#backend!)
      this.#release(x.outcome === 'ok', undefined)
    }
    this.#done()
  }

  #release(ok: boolean, code: FailureCode | undefined): void {
    if (this.#released) return
    this.#released = true
    this.#pool!.release(this.#server!, { ok, code, status: this.x.status || undefined })
  }

  #dropHeld(): void {
    this.#held.length = 0
    this.#heldBytes = 0
  }
}
