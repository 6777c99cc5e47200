import { type Socket, connect as tcpConnect } from 'node:net'
import type { Readable } from 'node:stream'
import type { ConnectionOptions } from 'node:tls'
import { ProxyError } from '../../errors.ts'
import { lazyBuiltin } from '../../lazy-builtin.ts'
import { type BatchedWrite, batchWrite } from '../batched-writes.ts'
import type { Entry } from '../live-list.ts'
import { HTTPParser, type OnHeaders, type OnHeadersComplete, type Parser } from '../parser.ts'
import { type Piece, SocketWriter } from '../socket-writer.ts'
import type { Call, CallRunner, HeaderRecord } from './call.ts'
import { requestHead } from './head.ts'

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
 * and body, parses the response with node's parser, and hands it to the call's handler. A response
 * that breaks the protocol, bytes nobody asked for, a timeout or a reset end the call and the
 * connection.
 */
export class Connection implements CallRunner, BatchedWrite {
  readonly socket: Socket
  /** Its place in its client's list of open connections. */
  entry: Entry<Connection> | undefined = undefined
  readonly #owner: ConnectionOwner
  readonly #writer: SocketWriter
  readonly #parser: Parser
  #call: Call | undefined = undefined
  /** Header lines that arrived before their head was complete, or trailers. */
  #fields: string[] = []
  #connected = false
  /** Requests written on it so far. */
  #requests = 0
  /** It may carry another request after this one: the server did not say close, nothing went wrong. */
  #reusable: boolean
  /** The last response head was informational (1xx): its end is not the call's. */
  #informational = false
  /** The call's response ended during this chunk: the connection is freed once the chunk is parsed. */
  #ended = false
  /** Bytes still to come of a response body of known length, read without the parser. */
  #bodyLeft = 0
  readonly #maxHeaderSize: number
  /** The request body still being sent. */
  #body: Readable | undefined = undefined
  #timeoutMs = -1
  #idleMs: number
  /** The server sent what cannot be answered to the client as HTTP: the connection is closed after this chunk. */
  #broken = false
  #closed = false
  /** A request head, or head and whole body, to write at the end of this turn (see batched-writes.ts). */
  #unsent: Piece[] = []
  /** A request body to stream once its head, held for the end of the turn, is written. */
  #streamed: { body: Readable; chunked: boolean; length: number } | undefined = undefined
  /** Stops sending the request body; set while one is being sent. */
  #detachBody: (() => void) | undefined = undefined

  constructor(settings: H1Settings, owner: ConnectionOwner, reusable: boolean) {
    this.#owner = owner
    this.#reusable = reusable
    this.#idleMs = settings.keepAliveIdleMs
    this.#maxHeaderSize = settings.maxHeaderSize
    const at = { host: settings.host, port: settings.port, noDelay: true }
    this.socket = settings.tls
      ? lazyBuiltin('node:tls').connect({ ...settings.tls, ...at, ALPNProtocols: ['http/1.1'] })
      : tcpConnect(at)
    this.#writer = new SocketWriter(this.socket)
    this.#timeout(settings.connectTimeoutMs)
    const parser = new HTTPParser()
    parser.initialize(HTTPParser.RESPONSE, {}, settings.maxHeaderSize, HTTPParser.kLenientNone)
    parser[HTTPParser.kOnHeaders] = this.#onHeaders
    parser[HTTPParser.kOnHeadersComplete] = this.#onHeadersComplete
    parser[HTTPParser.kOnBody] = this.#onBody
    parser[HTTPParser.kOnMessageComplete] = this.#onMessageComplete
    this.#parser = parser
    const socket = this.socket
    socket.once(settings.tls ? 'secureConnect' : 'connect', () => this.#onConnect())
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
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
    call.handler.onRequestStart?.(call, undefined)
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
      this.#streamed = { body, chunked: head.framing === 'chunked', length: head.length }
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
    if (streamed) this.#stream(streamed.body, streamed.chunked, streamed.length, first?.length ?? 0)
  }

  /** Sends a request body as it arrives, with backpressure: chunked, or checked against its length; `sent` bytes went with the head. */
  #stream(body: Readable, chunked: boolean, length: number, sent: number): void {
    this.#body = body
    const socket = this.socket
    const onData = (chunk: Buffer) => {
      sent += chunk.length
      if (!(chunked ? writeChunk(socket, chunk) : socket.write(chunk))) body.pause()
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
    if (this.#bodyLeft > 0) {
      this.#fixedBody(chunk, 0)
      return
    }
    const result = this.#parser.execute(chunk)
    if (result instanceof Error) this.#close(result)
    else if (this.#broken) this.#close(new ProxyError('backend_error'))
    else if (this.#bodyLeft > 0) this.#fixedBody(chunk, result)
    else if (this.#ended) this.#free()
  }

  /**
   * Bytes of a body of known length, from `from` in `chunk`, passed on as they came, not copied
   * through the parser. Bytes past its end are a second answer nobody asked for: the connection
   * is closed once this one is complete.
   */
  #fixedBody(chunk: Buffer, from: number): void {
    const call = this.#call!
    const left = this.#bodyLeft
    const available = chunk.length - from
    const piece = from === 0 && available <= left ? chunk : chunk.subarray(from, from + Math.min(available, left))
    this.#bodyLeft = left - piece.length
    if (piece.length > 0 && !call.done) call.handler.onResponseData?.(call, piece)
    if (this.#bodyLeft > 0) return
    // The parser saw a head it was told to hand over whole; it starts again for the next response.
    this.#parser.initialize(HTTPParser.RESPONSE, {}, this.#maxHeaderSize, HTTPParser.kLenientNone)
    this.#onMessageComplete()
    if (available > left) this.#close(new ProxyError('backend_error'))
    else if (this.#ended) this.#free()
  }

  #onEnd(): void {
    this.#reusable = false
    if (this.#call === undefined) {
      this.#close(new ProxyError('backend_reset'))
      return
    }
    // A response framed by the connection's end is complete now; any other call on it failed.
    const result = this.#parser.finish()
    if (result instanceof Error) this.#close(result)
    else if (this.#ended) this.#free()
    else this.#close(new ProxyError('backend_reset'))
  }

  #onTimeout(): void {
    // Without a call, the connection idled past its last request's timeout before the client's sweep closed it.
    const call = this.#call
    if (call === undefined) this.#close(new ProxyError('backend_reset'))
    else this.#close(new ProxyError(this.#connected ? 'backend_timeout' : 'connect_timeout'))
  }

  readonly #onHeaders: OnHeaders = (fields) => {
    for (const f of fields) this.#fields.push(f)
  }

  readonly #onHeadersComplete: OnHeadersComplete = (
    _major,
    _minor,
    fields,
    _method,
    _url,
    status,
    message,
    upgrade,
    keepAlive,
  ) => {
    const call = this.#call!
    const raw = fields ?? this.#takeFields()
    // A second response to one request (bytes after the first one's end), or a switch of protocols
    // Portico never asked for on these connections: the connection cannot be trusted any further.
    if (this.#ended || upgrade || status === 101) {
      this.#broken = true
      this.#informational = true
      return 1
    }
    if (status < 200) {
      this.#informational = true
      call.handler.onResponseStart?.(call, status, headerRecord(raw), message)
      return 1
    }
    const record = headerRecord(raw)
    if (!keepAlive) this.#reusable = false
    else this.#keepAliveHint(record['keep-alive'])
    call.rawHeaders = raw
    this.#timeout(call.opts.bodyTimeout ?? 0)
    call.handler.onResponseStart?.(call, status, record, message)
    if (call.opts.method === 'HEAD') return 1
    const length = status === 204 || status === 304 ? 0 : fixedLength(record)
    if (!(length > 0)) return 0
    // A body of known length is counted here and passed on without the parser, which would copy
    // every chunk: told the head is an upgrade's, the parser stops right after it.
    this.#bodyLeft = length
    return 2
  }

  readonly #onBody = (chunk: Buffer): void => {
    const call = this.#call
    if (call !== undefined && !call.done && !this.#broken) call.handler.onResponseData?.(call, chunk)
  }

  readonly #onMessageComplete = (): void => {
    if (this.#bodyLeft > 0) return
    if (this.#informational) {
      this.#informational = false
      return
    }
    const call = this.#call
    if (call === undefined || call.done) return
    call.done = true
    this.#ended = true
    const trailers = this.#fields.length > 0 ? this.#takeFields() : undefined
    call.rawTrailers = trailers
    call.handler.onResponseEnd?.(call, trailers ? headerRecord(trailers) : noFields)
  }

  /** The call ended well: the connection takes the next one, unless it cannot be trusted with it. */
  #free(): void {
    this.#ended = false
    this.#call = undefined
    // A call paused by a slow reader may end before its reader drains: the next one reads again.
    this.socket.resume()
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
      // The parser's native half is freed only by close(), and not while it may still be parsing.
      setImmediate(closeParser, this.#parser)
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

  #takeFields(): string[] {
    const fields = this.#fields
    this.#fields = []
    return fields
  }

  /** Sets the socket's inactivity timeout; re-arming the same value again is skipped, as it allocates. */
  #timeout(ms: number): void {
    if (ms === this.#timeoutMs) return
    this.#timeoutMs = ms
    this.socket.setTimeout(ms)
  }
}

/**
 * The body length `Content-Length` gives, or -1 when the parser must find the framing: no length,
 * or a `Transfer-Encoding` too (which the parser refuses or lets win, RFC 9112 §6.3).
 */
function fixedLength(record: HeaderRecord): number {
  const value = record['content-length']
  if (typeof value !== 'string' || record['transfer-encoding'] !== undefined) return -1
  return Number(value)
}

function closeParser(parser: Parser): void {
  parser.close()
}

const noFields: HeaderRecord = Object.freeze({}) as HeaderRecord

/** Whether `body` holds bytes read and not yet taken, which `read()` returns as one Buffer. */
function bytesWaiting(body: Readable): boolean {
  return (
    body.readableFlowing !== true &&
    body.readableLength > 0 &&
    !body.readableObjectMode &&
    body.readableEncoding === null
  )
}

/** Writes `chunk` as one chunk of a chunked body, in one system call; false when the socket's buffer is full. */
function writeChunk(socket: Socket, chunk: Buffer): boolean {
  socket.cork()
  socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1')
  socket.write(chunk)
  const more = socket.write('\r\n', 'latin1')
  socket.uncork()
  return more
}

// The fields read from the record, by name length: Link (4), Trailer (7), Connection and
// Keep-Alive (10), Content-Length (14), Transfer-Encoding (17). The others are only in the raw list.
const recordLengths = (1 << 4) | (1 << 7) | (1 << 10) | (1 << 14) | (1 << 17)
const recorded = new Set(['link', 'trailer', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'])

/** The fields looked up by name, lower-cased; repeated ones joined as undici does for most. */
function headerRecord(raw: readonly string[]): HeaderRecord {
  const record: HeaderRecord = {}
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length > 17 || (recordLengths & (1 << name.length)) === 0) continue
    const lower = name.toLowerCase()
    if (!recorded.has(lower)) continue
    const prior = record[lower]
    record[lower] = prior === undefined ? raw[i + 1]! : `${prior}, ${raw[i + 1]}`
  }
  return record
}
