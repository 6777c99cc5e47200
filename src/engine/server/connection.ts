import type { Socket } from 'node:net'
import { ignore } from '../../errors.ts'
import type { Entry } from '../live-list.ts'
import { HTTPParser, methods, type OnHeaders, type OnHeadersComplete, type Parser } from '../parser.ts'
import { SocketWriter } from '../socket-writer.ts'
import { H1Request } from './request.ts'
import { H1Response, type ResponseOwner } from './response.ts'
import { servable } from './servable.ts'

/** What a connection asks of the server that accepted it. */
export interface ConnectionHost {
  /** The longest request head, in bytes. */
  readonly maxHeaderBytes: number
  readonly headersTimeoutMs: () => number
  readonly keepAliveIdleMs: () => number
  /** Serves a request this server read. */
  request(req: H1Request, res: H1Response): void
  /** Whether the listener drains: a connection closes once its response is done. */
  readonly draining: boolean
  /** Gives the connection to node's HTTP/1.1 server, which reads `pending` first. */
  handOff(connection: H1Connection, pending: Buffer | undefined): void
  /** A request head did not come in time: node's 'clientError', as its own server would raise it. */
  timedOut(connection: H1Connection): void
  /** The connection closed. */
  closed(connection: H1Connection): void
}

// The parser's number for CONNECT, whose requests this server leaves to node's.
const connect = methods.indexOf('CONNECT')

/**
 * One client connection of Portico's own HTTP/1.1 server. It serves the requests it can serve
 * whole from their head, one at a time and in order (pipelined ones wait their turn): HTTP/1.1,
 * a Host, no body, no `Expect`, no `Upgrade`. At the first request it cannot, or a head node's
 * parser refuses, it hands the connection with every byte not yet served to node's server, which
 * answers it as it would have from the start. Heads are parsed by node's own parser (llhttp).
 */
export class H1Connection implements ResponseOwner {
  readonly socket: Socket
  /** Writes its responses. */
  readonly #writer: SocketWriter
  /** Its place in its server's list. */
  entry: Entry<H1Connection> | undefined = undefined
  /**
   * `performance.now()` after which the connection is closed while no response is under way: the
   * head of the request being read is too slow, or it has been idle too long since the last one.
   */
  deadline: number
  /** `performance.now()` since which no response has been under way: when it was accepted, or its last response ended. */
  idleSince = performance.now()
  /** Bytes received and not yet served: the start of the next request, or pipelined ones. */
  #pending: Buffer | undefined = undefined
  #response: H1Response | undefined = undefined
  /** A request head has begun and is not complete. */
  #reading = false
  /** A request has been served on it. */
  #served = false
  /** It reads no further requests: it closes, was handed to node's server, or timed out. */
  #done = false
  /** Its listeners and parser are gone. */
  #detached = false
  /** Portico sent its FIN on an idle connection and drops what still comes, until the client closes. */
  #lingering = false
  /** Its next response says `Connection: close` (see retire). */
  #retired = false
  readonly #host: ConnectionHost
  readonly #parser: Parser
  // What the parser said of the last head.
  #fields: string[] = []
  #url = ''
  #method = -1
  #simple = false
  #keepAlive = false
  /** Heads the parser completed in the last chunk given to it. */
  #heads = 0

  constructor(host: ConnectionHost, socket: Socket) {
    this.#host = host
    this.socket = socket
    this.#writer = new SocketWriter(socket)
    this.deadline = performance.now() + host.headersTimeoutMs()
    const parser = new HTTPParser()
    parser.initialize(HTTPParser.REQUEST, {}, host.maxHeaderBytes, HTTPParser.kLenientNone)
    parser[HTTPParser.kOnHeaders] = this.#onHeaders
    parser[HTTPParser.kOnHeadersComplete] = this.#onHeadersComplete
    this.#parser = parser
    socket.setNoDelay(true)
    socket.on('data', this.#onData)
    socket.on('end', this.#onEnd)
    socket.on('close', this.#onClose)
    socket.on('error', ignore)
  }

  /** Whether no response is under way on it. */
  get idle(): boolean {
    return this.#response === undefined
  }

  /**
   * Makes the next response (the one under way, if its head is not out yet) say `Connection: close`
   * and end the connection, at a response boundary, where a client knows not to send more on it.
   */
  retire(): void {
    this.#retired = true
    const res = this.#response
    if (res !== undefined && !res.headersSent) res.shouldKeepAlive = false
  }

  /** Whether a request head has begun and is not complete. */
  get reading(): boolean {
    return this.#reading
  }

  keepAliveSeconds(): number {
    return Math.floor(this.#host.keepAliveIdleMs() / 1000)
  }

  responded(res: H1Response): void {
    if (res !== this.#response) return
    this.#response = undefined
    // While the listener drains, a response whose head went out before the drain said keep-alive, so
    // its client may be writing the next request already: that one is served, with `Connection:
    // close`, and the connection closes once quiet (H1Server.drain), never right after such a response.
    if (!res.shouldKeepAlive) {
      // A client that said `Connection: close` and sent nothing after it sends no more (RFC 9112 §9.6):
      // the response is with the kernel, so closing sends it and a FIN, never a reset, with no wait for
      // the client's FIN. TLS first sends its close_notify (destroySoon), as node's server does.
      if (this.#keepAlive || this.#pending !== undefined) this.#linger()
      else if ((this.socket as Socket & { encrypted?: boolean }).encrypted) this.socket.destroySoon()
      else this.socket.destroy()
      return
    }
    this.idleSince = performance.now()
    this.deadline = this.idleSince + this.#host.keepAliveIdleMs()
    if (this.socket.isPaused()) this.socket.resume()
    this.#next()
  }

  /**
   * The connection's deadline passed with no response under way: a request head that is late gets
   * 408, as from node's server (a connection that never sent one too); an idle one is closed
   * gracefully; one that lingers after that is destroyed.
   */
  expire(): void {
    if (this.#lingering) this.socket.destroy()
    else if (this.#reading || !this.#served) {
      this.#done = true
      this.#host.timedOut(this)
    } else this.closeIdle()
  }

  /**
   * Closes the connection if it is idle: no response under way and no request head begun. It sends
   * a FIN, never a reset, and goes on reading, dropping what comes, until the client closes its side
   * or a head's timeout passes. Destroying a socket whose receive buffer holds a request makes the
   * kernel send a reset, which may also discard the last response; a FIN is the close that clients
   * retry an unanswered request on (RFC 9112 §9.3.1). Returns whether it closed.
   */
  closeIdle(): boolean {
    if (this.#response !== undefined || this.#reading || this.#done) return false
    this.#linger()
    return true
  }

  /** Sends the FIN and reads no more requests; the socket closes with the client's FIN, or at the deadline. */
  #linger(): void {
    this.#done = true
    this.#lingering = true
    this.deadline = performance.now() + this.#host.headersTimeoutMs()
    this.socket.end()
  }

  /** Stops reading for this server: the connection is node's now, or has closed (its listeners stay: nothing emits then). */
  #detach(closed: boolean): void {
    if (this.#detached) return
    this.#detached = true
    this.#done = true
    if (!closed) {
      const socket = this.socket
      socket.off('data', this.#onData)
      socket.off('end', this.#onEnd)
      socket.off('close', this.#onClose)
      socket.off('error', ignore)
    }
    this.#parser.close()
    this.#host.closed(this)
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#done) return
    const pending = this.#pending
    this.#pending = pending === undefined ? chunk : Buffer.concat([pending, chunk])
    if (this.#response === undefined) this.#next()
    // Pipelined bytes wait for the response under way; past one head's worth, the client waits too.
    else if (this.#pending.length > this.#host.maxHeaderBytes) this.socket.pause()
  }

  /** Serves the next request in the bytes received, when its head is complete. */
  #next(): void {
    const pending = this.#pending
    if (pending === undefined || this.#done) return
    const end = pending[0] === 13 || pending[0] === 10 ? -2 : pending.indexOf('\r\n\r\n')
    if (end === -1 && pending.length <= this.#host.maxHeaderBytes) {
      if (!this.#reading) {
        this.#reading = true
        this.deadline = performance.now() + this.#host.headersTimeoutMs()
      }
      return
    }
    const length = end + 4
    // Empty lines before a request line, a head too large, or one the parser refuses: node's server answers.
    if (end < 0 || length > this.#host.maxHeaderBytes) {
      this.#handOff()
      return
    }
    this.#simple = false
    this.#heads = 0
    this.#fields = []
    this.#url = ''
    const result = this.#parser.execute(length === pending.length ? pending : pending.subarray(0, length))
    // The parser must have seen exactly the one head found here: any other reading goes to node's server.
    if (result !== length || this.#heads !== 1 || !this.#simple) {
      this.#handOff()
      return
    }
    this.#pending = length === pending.length ? undefined : pending.subarray(length)
    this.#reading = false
    this.#served = true
    this.deadline = Number.POSITIVE_INFINITY
    const fields = this.#fields
    this.#fields = []
    const req = new H1Request(this.socket, methods[this.#method]!, this.#url, fields)
    const res = new H1Response(this, req, this.#writer, this.#keepAlive && !this.#retired)
    this.#response = res
    this.#host.request(req, res)
  }

  #handOff(): void {
    const pending = this.#pending
    this.#pending = undefined
    this.#detach(false)
    this.#host.handOff(this, pending)
  }

  readonly #onHeaders: OnHeaders = (fields, url) => {
    for (const f of fields) this.#fields.push(f)
    this.#url += url
  }

  readonly #onHeadersComplete: OnHeadersComplete = (
    major,
    minor,
    fields,
    method,
    url,
    _status,
    _message,
    upgrade,
    keepAlive,
  ) => {
    this.#heads++
    if (fields !== undefined) this.#fields = fields
    if (url !== undefined) this.#url = url
    this.#method = method ?? -1
    this.#keepAlive = keepAlive
    this.#simple = major === 1 && minor === 1 && !upgrade && method !== connect && servable(this.#fields)
    return 0
  }

  /**
   * The client sent its FIN. As node's server does, that ends the connection: a response under way is
   * aborted, since a client that closed its side is taken to have left.
   */
  readonly #onEnd = (): void => {
    this.#done = true
    // Ending twice would make node build an error object for nothing.
    if (this.#response !== undefined) this.socket.destroy()
    else if (!this.socket.writableEnded) this.socket.end()
  }

  readonly #onClose = (): void => {
    const res = this.#response
    this.#response = undefined
    this.#detach(true)
    if (res !== undefined && !res.writableFinished) res.aborted()
  }
}
