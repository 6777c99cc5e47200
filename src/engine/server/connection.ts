import type { Socket } from 'node:net'
import { ignore } from '../../errors.ts'
import type { Entry } from '../live-list.ts'
import { SocketWriter } from '../socket-writer.ts'
import type { ClientErrorCode, ConnectionHost } from './connection-host.ts'
import { HeadParser, headLength } from './head-parser.ts'
import { H1Request } from './request.ts'
import { H1Body } from './request-body.ts'
import { H1Response, type ResponseOwner } from './response.ts'

/**
 * One client connection of Portico's own HTTP/1.1 server. It serves requests one at a time and in
 * order (pipelined ones wait their turn): HTTP/1.1, a Host, no `Expect`, no `Upgrade`, and no body
 * or one of the length a Content-Length gives (see request-body.ts). At the first request it
 * cannot serve, or a head node's parser refuses, it hands the connection with every byte not yet
 * served to node's server, which answers it as it would have from the start. Heads and bodies go
 * through node's own parser (llhttp).
 */
export class H1Connection implements ResponseOwner {
  readonly socket: Socket
  /** Writes its responses. */
  readonly #writer: SocketWriter
  /** Its place in its server's list. */
  entry: Entry<H1Connection> | undefined = undefined
  /** `performance.now()` after which it closes while no response is under way (a slow head, or idle too long). */
  deadline: number
  /** `performance.now()` since which no response has been under way: when it was accepted, or its last response ended. */
  idleSince = performance.now()
  /** Bytes received and not yet served: the start of the next request, or pipelined ones. */
  #pending: Buffer | undefined = undefined
  #response: H1Response | undefined = undefined
  /** The body of the request being served, until it has been received whole. */
  #body: H1Body | undefined = undefined
  /** `performance.now()` when the first byte of a request head that is not complete came; undefined when none has begun. */
  #headStart: number | undefined = undefined
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
  readonly #heads: HeadParser

  constructor(host: ConnectionHost, socket: Socket) {
    this.#host = host
    this.socket = socket
    this.#writer = new SocketWriter(socket)
    this.deadline = performance.now() + host.headersTimeoutMs()
    this.#heads = new HeadParser(host.maxHeaderBytes)
    socket.setNoDelay(true)
    socket.on('data', this.#onData)
    socket.on('end', this.#onEnd)
    socket.on('close', this.#onClose)
    socket.on('error', ignore)
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
      if (this.#heads.keepAlive || this.#pending !== undefined || this.#body !== undefined) this.#linger()
      else closeNow(this.socket)
      return
    }
    if (this.socket.isPaused()) this.socket.resume()
    // A body that is still coming is read to its end, unused, before the next request (node dumps it too).
    if (this.#body !== undefined) this.#body.discard()
    else this.#ready()
  }

  /** No request is under way any more: the connection waits for the next one, which may be here already. */
  #ready(): void {
    this.idleSince = performance.now()
    this.deadline = this.idleSince + this.#host.keepAliveIdleMs()
    this.#next()
  }

  /**
   * The connection's deadline passed: a request head or body that is late gets 408, as from node's
   * server (a connection that never sent a head too); an idle one is closed gracefully; one that
   * lingers after that is destroyed.
   */
  expire(): void {
    if (this.#lingering) this.socket.destroy()
    else if (this.#body !== undefined) this.#incomplete('ERR_HTTP_REQUEST_TIMEOUT')
    else if (this.#response !== undefined) return
    else if (this.#headStart !== undefined || !this.#served) {
      this.#done = true
      this.#host.clientError(this, 'ERR_HTTP_REQUEST_TIMEOUT')
    } else this.closeIdle()
  }

  /**
   * A request's body did not come whole: too late, or the client ended its side. As from node's
   * server, the client gets 408 or 400 when its response has not begun (the connection is cut
   * otherwise), and the exchange ends as the client's abort.
   */
  #incomplete(code: ClientErrorCode): void {
    this.#done = true
    const res = this.#response
    if (res === undefined || res.headersSent) this.socket.destroy()
    else {
      // Nothing more of the response may reach the socket after the raw answer.
      this.#response = undefined
      this.#host.clientError(this, code)
      res.aborted()
    }
    this.#body?.abort()
    this.#body = undefined
  }

  /**
   * Closes the connection if it is idle: no response under way and no request head begun. It sends
   * a FIN, never a reset, and goes on reading, dropping what comes, until the client closes its side
   * or a head's timeout passes. Destroying a socket whose receive buffer holds a request makes the
   * kernel send a reset, which may also discard the last response; a FIN is the close that clients
   * retry an unanswered request on (RFC 9112 §9.3.1). Returns whether it closed.
   */
  closeIdle(): boolean {
    if (this.#response !== undefined || this.#body !== undefined || this.#headStart !== undefined || this.#done)
      return false
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
    this.#heads.close()
    this.#host.closed(this)
  }

  readonly #onData = (data: Buffer): void => {
    if (this.#done) return
    let chunk = data
    const body = this.#body
    if (body !== undefined) {
      const rest = body.receive(chunk)
      if (!body.received) return
      this.#bodyReceived()
      if (rest === undefined) return
      chunk = rest
    }
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
    const length = headLength(pending, this.#host.maxHeaderBytes)
    if (length === 0) {
      if (this.#headStart === undefined) {
        this.#headStart = performance.now()
        this.deadline = this.#headStart + this.#host.headersTimeoutMs()
      }
      return
    }
    const heads = this.#heads
    // The parser must have seen exactly the one head found here: any other reading goes to node's server.
    if (length < 0 || !heads.parse(length === pending.length ? pending : pending.subarray(0, length))) {
      this.#handOff()
      return
    }
    const bodyLength = heads.bodyLength!
    const start = this.#headStart ?? performance.now()
    this.#headStart = undefined
    this.#served = true
    this.deadline = Number.POSITIVE_INFINITY
    let rest = length === pending.length ? undefined : pending.subarray(length)
    let body: H1Body | undefined
    if (bodyLength > 0) {
      body = new H1Body(this.socket, heads.parser, bodyLength)
      // The body's first bytes, read with the head, wait in its stream for the pipeline to take.
      if (rest !== undefined) rest = body.receive(rest)
      if (!body.received) {
        this.#body = body
        this.deadline = start + this.#host.requestTimeoutMs()
      }
    }
    this.#pending = rest
    const req = new H1Request(this.socket, heads.method, heads.url, heads.takeFields(), body)
    const res = new H1Response(this, req, this.#writer, heads.keepAlive && !this.#retired)
    this.#response = res
    this.#host.request(req, res)
  }

  /** The body of the request under way has come whole; when its response is done too, the next request may be read. */
  #bodyReceived(): void {
    this.#body = undefined
    if (this.#response !== undefined) this.deadline = Number.POSITIVE_INFINITY
    else this.#ready()
  }

  #handOff(): void {
    const pending = this.#pending
    this.#pending = undefined
    this.#detach(false)
    this.#host.handOff(this, pending)
  }

  /**
   * The client sent its FIN. As node's server does, that ends the connection: a response under way is
   * aborted, since a client that closed its side is taken to have left.
   */
  readonly #onEnd = (): void => {
    if (this.#body !== undefined) {
      this.#incomplete('HPE_INVALID_EOF_STATE')
      return
    }
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
    this.#body?.abort()
    this.#body = undefined
  }
}

/**
 * Closes a connection whose client said `Connection: close` and sent nothing after its request
 * (its body, if any, read whole), so sends no more (RFC 9112 §9.6): the response is with the
 * kernel, so closing sends it and a FIN, never a reset, with no wait for the client's FIN. TLS
 * first sends its close_notify (destroySoon), as node's server does.
 */
function closeNow(socket: Socket): void {
  if ((socket as Socket & { encrypted?: boolean }).encrypted) socket.destroySoon()
  else socket.destroy()
}
