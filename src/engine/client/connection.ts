import { type Socket, connect as tcpConnect } from 'node:net'
import type { Readable } from 'node:stream'
import type { ConnectionOptions } from 'node:tls'
import { ProxyError } from '../../errors.ts'
import { lazyBuiltin } from '../../lazy-builtin.ts'
import { type BatchedWrite, batchWrite } from '../batched-writes.ts'
import type { Entry } from '../live-list.ts'
import { type Piece, SocketWriter } from '../socket-writer.ts'
import { bytesWaiting, type StreamedBody, writeBody } from './body-writes.ts'
import type { Call, CallRunner, HeaderRecord } from './call.ts'
import { requestHead } from './head.ts'
import { type ReaderOwner, ResponseReader } from './response-reader.ts'
import { sharedReads } from './shared-reads.ts'

/** Where connections go and how they are kept. */
export interface H1Settings {
  readonly host: string
  readonly port: number
  /** TLS towards the server; undefined for plain TCP. */
  readonly tls: ConnectionOptions | undefined
  readonly connectTimeoutMs: number
  /** Longest idle time between requests; a shorter `Keep-Alive: timeout=` from the server wins. */
  readonly keepAliveIdleMs: number
  /** Largest response head, in bytes. */
  readonly maxHeaderSize: number
}

/** What a connection tells the client that owns it. */
export interface ConnectionOwner {
  /** The connection carried its call to the end and may take another. */
  free(connection: Connection): void
  /** The connection is closed. */
  gone(connection: Connection): void
}

// A server's `Keep-Alive: timeout=N` counts from when it sent the response; this margin covers
// the time the response and the next request spend on their way, as undici's default does.
const keepAliveMarginMs = 2000
const keepAliveTimeout = /timeout\s*=\s*(\d+)/i

/**
 * One HTTP/1.1 connection to a server, carrying one request at a time: writes the request head
 * and body, and has its ResponseReader hand the response to the call's handler. A response
 * that breaks the protocol, bytes nobody asked for, a timeout or a reset end the call and the
 * connection.
 */
export class Connection implements CallRunner, BatchedWrite, ReaderOwner {
  readonly socket: Socket
  /** Its place in its client's list of open connections. */
  entry: Entry<Connection> | undefined = undefined
  readonly #owner: ConnectionOwner
  readonly #writer: SocketWriter
  readonly #reader: ResponseReader
  #call: Call | undefined = undefined
  #connected = false
  /** Requests written on it so far. */
  #requests = 0
  /** It may carry another request after this one: the server did not say close, nothing went wrong. */
  #reusable: boolean
  /** The request body still being sent. */
  #body: Readable | undefined = undefined
  #timeoutMs = -1
  #idleMs: number
  #closed = false
  /** A request head, or head and whole body, to write at the end of this turn (see batched-writes.ts). */
  #unsent: Piece[] = []
  /** A request body to stream once its head, held for the end of the turn, is written. */
  #streamed: StreamedBody | undefined = undefined
  /** Stops sending the request body; set while one is being sent. */
  #detachBody: (() => void) | undefined = undefined

  constructor(settings: H1Settings, owner: ConnectionOwner, reusable: boolean) {
    this.#owner = owner
    this.#reusable = reusable
    this.#idleMs = settings.keepAliveIdleMs
    const at = { host: settings.host, port: settings.port, noDelay: true }
    // A plain connection reads into memory all of them share (shared-reads.ts); a TLS one through its stream.
    this.socket = settings.tls
      ? lazyBuiltin('node:tls').connect({ ...settings.tls, ...at, ALPNProtocols: ['http/1.1'] })
      : tcpConnect({ ...at, onread: sharedReads((chunk) => this.#onData(chunk)) })
    this.#writer = new SocketWriter(this.socket)
    this.#timeout(settings.connectTimeoutMs)
    this.#reader = new ResponseReader(settings.maxHeaderSize, this, settings.tls === undefined)
    const socket = this.socket
    socket.once(settings.tls ? 'secureConnect' : 'connect', () => this.#onConnect())
    if (settings.tls) socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('end', () => this.#onEnd())
    socket.on('error', (err) => this.#close(err))
    socket.on('close', () => this.#close(new ProxyError('backend_reset')))
    socket.on('timeout', () => this.#onTimeout())
    socket.on('drain', () => this.#body?.resume())
  }

  /** Sends `call` on this connection: now when it is open, else once it is. */
  run(call: Call): void {
    this.#call = call
    call.host = this
    if (this.#connected) this.#send(call)
  }

  /** `performance.now()` from which it is too long idle to be used again. */
  idleUntil = 0

  /**
   * Waits for the next request, for `#idleMs` at most: its client closes it after that. The
   * socket's timeout is left as the last request set it, since changing it allocates a timer.
   */
  idle(now: number): void {
    this.idleUntil = now + this.#idleMs
  }

  /** Closes it; a call on it fails with `reason`. */
  destroy(reason: Error): void {
    this.#close(reason)
  }

  abortCall(call: Call, reason: Error): void {
    if (call !== this.#call) return
    this.#close(reason)
  }

  pauseCall(call: Call): void {
    if (call === this.#call) this.socket.pause()
  }

  resumeCall(call: Call): void {
    if (call === this.#call) this.socket.resume()
  }

  #onConnect(): void {
    this.#connected = true
    if (this.#call) this.#send(this.#call)
  }

  #send(call: Call): void {
    call.reused = this.#requests > 0
    this.#requests++
    call.handler.onRequestStart?.(call)
    if (call.done || call !== this.#call) return
    const { opts } = call
    let head: ReturnType<typeof requestHead>
    try {
      head = requestHead(opts.method, opts.path, opts.headers, opts.body, !this.#reusable)
    } catch (err) {
      this.#close(err as Error)
      return
    }
    this.#timeout(opts.headersTimeout ?? 0)
    const body = opts.body
    // Header values are bytes: latin1 keeps each as it came (RFC 9110 §5.5). The head waits for the
    // end of the turn, with the turn's other writes: with a body known whole, or with what a streamed
    // body has received by then, the rest of which follows through the socket's stream.
    if (body === null) this.#unsent.push(head.text, 'latin1')
    else if (Buffer.isBuffer(body)) this.#unsent.push(head.text, 'latin1', body, 'buffer')
    else {
      this.#unsent.push(head.text, 'latin1')
      const free = opts.bodyChunksFree === true
      this.#streamed = { body, chunked: head.framing === 'chunked', length: head.length, free }
    }
    batchWrite(this)
  }

  /** Writes the request held for the end of the turn (BatchedWrite), unless the connection closed since. */
  flushBatched(): void {
    // A connection seen closed before this turn's end never got the request (Call.written).
    if (this.#closed) return
    if (this.#call !== undefined) this.#call.written = true
    // A streamed body follows its head; the bytes of it that arrived by now go out in the same write.
    const streamed = this.#streamed
    this.#streamed = undefined
    const first = streamed && bytesWaiting(streamed.body) ? (streamed.body.read() as Buffer | null) : null
    if (first !== null && first.length > 0) {
      if (streamed!.chunked)
        this.#unsent.push(`${first.length.toString(16)}\r\n`, 'latin1', first, 'buffer', '\r\n', 'latin1')
      else this.#unsent.push(first, 'buffer')
    }
    // A write libuv queued keeps its pieces until it is sent; a sent one leaves the list for reuse.
    if (this.#writer.writev(this.#unsent)) this.#unsent.length = 0
    else this.#unsent = []
    if (streamed) this.#stream(streamed, first?.length ?? 0)
  }

  /** Sends a request body as it arrives, with backpressure: chunked, or checked against its length; `sent` bytes went with the head. */
  #stream({ body, chunked, length, free }: StreamedBody, sent: number): void {
    this.#body = body
    const socket = this.socket
    const onData = (chunk: Buffer) => {
      sent += chunk.length
      if (!writeBody(socket, chunk, chunked, free)) body.pause()
    }
    const onEnd = () => {
      detach()
      if (chunked) socket.write('0\r\n\r\n')
      else if (sent !== length) this.#close(new ProxyError('backend_error'))
    }
    const detach = () => {
      if (this.#body !== body) return
      this.#body = undefined
      this.#detachBody = undefined
      body.off('data', onData)
      body.off('end', onEnd)
    }
    this.#detachBody = detach
    body.on('data', onData)
    body.on('end', onEnd)
  }

  #onData(chunk: Buffer): void {
    if (this.#call === undefined) {
      // Bytes with no request: a server that broke the protocol, or a late answer.
      this.#close(new ProxyError('backend_error'))
      return
    }
    const read = this.#reader.read(chunk)
    if (read instanceof Error) this.#close(read)
    else if (read) this.#free()
  }

  #onEnd(): void {
    this.#reusable = false
    if (this.#call === undefined) {
      this.#close(new ProxyError('backend_reset'))
      return
    }
    // A response framed by the connection's end is complete now; any other call on it failed.
    const read = this.#reader.finish()
    if (read instanceof Error) this.#close(read)
    else if (read) this.#free()
    else this.#close(new ProxyError('backend_reset'))
  }

  #onTimeout(): void {
    // Without a call, the connection idled past its last request's timeout before the client's sweep closed it.
    const call = this.#call
    if (call === undefined) this.#close(new ProxyError('backend_reset'))
    else this.#close(new ProxyError(this.#connected ? 'backend_timeout' : 'connect_timeout'))
  }

  /** The call whose response is being read (ReaderOwner). */
  get call(): Call | undefined {
    return this.#call
  }

  finalHead(call: Call, record: HeaderRecord, keepAlive: boolean): void {
    if (!keepAlive) this.#reusable = false
    else this.#keepAliveHint(record['keep-alive'])
    this.#timeout(call.opts.bodyTimeout ?? 0)
  }

  /** The call ended well: the connection takes the next one, unless it cannot be trusted with it. */
  #free(): void {
    this.#reader.next()
    this.#call = undefined
    // A call paused by a slow reader may end before its reader drains: the next one reads again.
    if (this.socket.isPaused()) this.socket.resume()
    // A body still being sent when the response ended leaves the connection mid-request.
    if (this.#body !== undefined) {
      this.#detachBody?.()
      this.#reusable = false
    }
    if (this.#reusable && !this.socket.destroyed) this.#owner.free(this)
    else this.#close(new ProxyError('backend_reset'))
  }

  /** Closes the connection once; a call still on it fails with `reason`. */
  #close(reason: Error): void {
    const call = this.#call
    this.#call = undefined
    this.#detachBody?.()
    if (!this.#closed) {
      this.#closed = true
      this.#reusable = false
      this.socket.destroy()
      this.#reader.close()
      this.#owner.gone(this)
    }
    call?.fail(reason)
  }

  /** A server's `Keep-Alive: timeout=N` shortens the idle time; too short to use, and it is not reused. */
  #keepAliveHint(value: string | string[] | undefined): void {
    if (typeof value !== 'string') return
    const m = keepAliveTimeout.exec(value)
    if (m === null) return
    const ms = Number(m[1]) * 1000 - keepAliveMarginMs
    if (ms <= 0) this.#reusable = false
    else if (ms < this.#idleMs) this.#idleMs = ms
  }

  /** Sets the socket's inactivity timeout; re-arming the same value again is skipped, as it allocates. */
  #timeout(ms: number): void {
    if (ms === this.#timeoutMs) return
    this.#timeoutMs = ms
    this.socket.setTimeout(ms)
  }
}
