import { ProxyError } from '../../errors.ts'
import { mayBeNamed, nameLengths } from '../../http/name-lengths.ts'
import { HTTPParser, type OnHeaders, type OnHeadersComplete, type Parser } from '../parser.ts'
import type { Call, HeaderRecord } from './call.ts'

/** What a reader tells the connection it reads for. */
export interface ReaderOwner {
  /** The call whose response is being read; undefined between calls. */
  readonly call: Call | undefined
  /**
   * A call's final head arrived, before its handler hears of it: whether the server keeps the
   * connection alive, and the head's fields (`Keep-Alive: timeout=`).
   */
  finalHead(call: Call, record: HeaderRecord, keepAlive: boolean): void
}

/**
 * The responses of one connection, read with node's parser and handed to each call's handler:
 * informational heads, the final head, body chunks (a body of known length counted and passed on
 * without the parser), trailers and the end. A second response to one request, or a switch of
 * protocols nobody asked for, breaks the connection.
 */
export class ResponseReader {
  readonly #owner: ReaderOwner
  readonly #parser: Parser
  readonly #maxHeaderSize: number
  /** Header lines that arrived before their head was complete, or trailers. */
  #fields: string[] = []
  /** The last response head was informational (1xx): its end is not the call's. */
  #informational = false
  /** The call's response ended: the connection is freed once the chunk that ended it is read. */
  #ended = false
  /** Bytes still to come of a response body of known length, read without the parser. */
  #bodyLeft = 0
  /** The server sent what cannot be answered to the client as HTTP. */
  #broken = false
  /** The chunks read are reused once read (a read buffer shared by connections): body bytes handed on are copies. */
  readonly #copyBody: boolean

  constructor(maxHeaderSize: number, owner: ReaderOwner, copyBody = false) {
    this.#owner = owner
    this.#copyBody = copyBody
    this.#maxHeaderSize = maxHeaderSize
    const parser = new HTTPParser()
    parser.initialize(HTTPParser.RESPONSE, {}, maxHeaderSize, HTTPParser.kLenientNone)
    parser[HTTPParser.kOnHeaders] = this.#onHeaders
    parser[HTTPParser.kOnHeadersComplete] = this.#onHeadersComplete
    parser[HTTPParser.kOnBody] = this.#onBody
    parser[HTTPParser.kOnMessageComplete] = this.#onMessageComplete
    this.#parser = parser
  }

  /**
   * Reads `chunk` of the call's response: an Error when the connection must close with it, true
   * when the call's response ended in it, false while more is to come. With `copyBody`, `chunk`
   * may be overwritten once this returns: nothing handed on refers to it.
   */
  read(chunk: Buffer): Error | boolean {
    if (this.#bodyLeft > 0) return this.#fixedBody(chunk, 0)
    const result = this.#parser.execute(chunk)
    if (result instanceof Error) return result
    if (this.#broken) return new ProxyError('backend_error')
    if (this.#bodyLeft > 0) return this.#fixedBody(chunk, result)
    return this.#ended
  }

  /** The connection's end, which ends a response framed by it: as {@link read}. */
  finish(): Error | boolean {
    const result = this.#parser.finish()
    return result instanceof Error ? result : this.#ended
  }

  /** The ended response is done with: the next call's is read from here. */
  next(): void {
    this.#ended = false
  }

  /** Frees the parser, after the current turn: its native half may still be parsing. */
  close(): void {
    setImmediate(closeParser, this.#parser)
  }

  /**
   * Bytes of a body of known length, from `from` in `chunk`, passed on as they came, not through
   * the parser (a copy when chunks are reused, see `copyBody`). Bytes past its end are a second
   * answer nobody asked for: the connection is closed once this one is complete.
   */
  #fixedBody(chunk: Buffer, from: number): Error | boolean {
    const call = this.#owner.call!
    const left = this.#bodyLeft
    const available = chunk.length - from
    const size = Math.min(available, left)
    this.#bodyLeft = left - size
    if (size > 0 && !call.done) {
      const piece = this.#copyBody
        ? copyOf(chunk, from, size)
        : size === chunk.length
          ? chunk
          : chunk.subarray(from, from + size)
      call.handler.onResponseData?.(call, piece)
    }
    if (this.#bodyLeft > 0) return false
    // The parser saw a head it was told to hand over whole; it starts again for the next response.
    this.#parser.initialize(HTTPParser.RESPONSE, {}, this.#maxHeaderSize, HTTPParser.kLenientNone)
    this.#onMessageComplete()
    if (available > left) return new ProxyError('backend_error')
    return this.#ended
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
    const call = this.#owner.call!
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
    this.#owner.finalHead(call, record, keepAlive)
    call.rawHeaders = raw
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
    const call = this.#owner.call
    if (call !== undefined && !call.done && !this.#broken) call.handler.onResponseData?.(call, chunk)
  }

  readonly #onMessageComplete = (): void => {
    if (this.#bodyLeft > 0) return
    if (this.#informational) {
      this.#informational = false
      return
    }
    const call = this.#owner.call
    if (call === undefined || call.done) return
    call.done = true
    this.#ended = true
    const trailers = this.#fields.length > 0 ? this.#takeFields() : undefined
    call.rawTrailers = trailers
    call.handler.onResponseEnd?.(call, trailers ? headerRecord(trailers) : noFields)
  }

  #takeFields(): string[] {
    const fields = this.#fields
    this.#fields = []
    return fields
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

/** `size` bytes of `chunk` from `from`, in memory of their own (a small copy comes from node's shared pool). */
function copyOf(chunk: Buffer, from: number, size: number): Buffer {
  const copy = Buffer.allocUnsafe(size)
  copy.set(chunk.subarray(from, from + size))
  return copy
}

function closeParser(parser: Parser): void {
  parser.close()
}

const noFields: HeaderRecord = Object.freeze({}) as HeaderRecord

// The fields read from the record; the others are only in the raw list.
const recordLengths = nameLengths([
  'link',
  'trailer',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
])

/**
 * The fields looked up by name, lower-cased; repeated ones joined as undici does for most. Every
 * record has the same six keys, unset ones undefined, and each is stored under its own name: one
 * object shape for every response, where keys added as they come would make a new one per order.
 */
function headerRecord(raw: readonly string[]): HeaderRecord {
  const record: Recorded = {
    link: undefined,
    trailer: undefined,
    connection: undefined,
    'keep-alive': undefined,
    'content-length': undefined,
    'transfer-encoding': undefined,
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (!mayBeNamed(recordLengths, name)) continue
    const value = raw[i + 1]!
    switch (name.toLowerCase()) {
      case 'link':
        record.link = joined(record.link, value)
        break
      case 'trailer':
        record.trailer = joined(record.trailer, value)
        break
      case 'connection':
        record.connection = joined(record.connection, value)
        break
      case 'keep-alive':
        record['keep-alive'] = joined(record['keep-alive'], value)
        break
      case 'content-length':
        record['content-length'] = joined(record['content-length'], value)
        break
      case 'transfer-encoding':
        record['transfer-encoding'] = joined(record['transfer-encoding'], value)
        break
    }
  }
  return record
}

type Recorded = Record<
  'link' | 'trailer' | 'connection' | 'keep-alive' | 'content-length' | 'transfer-encoding',
  string | undefined
>

function joined(prior: string | undefined, value: string): string {
  return prior === undefined ? value : `${prior}, ${value}`
}
