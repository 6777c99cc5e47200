import { HTTPParser, methods, type OnHeaders, type OnHeadersComplete, type Parser } from '../parser.ts'
import { servable } from './servable.ts'

// The parser's number for CONNECT, whose requests this server leaves to node's.
const connect = methods.indexOf('CONNECT')

/**
 * The length of the request head at the start of `pending`, up to its empty line: 0 while it is
 * not complete, -1 when it is not one for the own server's parser (empty lines before a request
 * line, or a head over `maxHeaderBytes`), which node's server then answers.
 */
export function headLength(pending: Buffer, maxHeaderBytes: number): number {
  const end = pending[0] === 13 || pending[0] === 10 ? -2 : pending.indexOf('\r\n\r\n')
  if (end === -1) return pending.length <= maxHeaderBytes ? 0 : -1
  return end < 0 || end + 4 > maxHeaderBytes ? -1 : end + 4
}

/**
 * A connection's request parser: node's own (llhttp, strict, as node's server uses it), given one
 * request head at a time, and then that request's body (see request-body.ts). It says whether
 * Portico's own server serves the request, and what the head holds.
 */
export class HeadParser {
  readonly parser: Parser
  /** The method of the last head. */
  method = ''
  /** The request target of the last head, as sent. */
  url = ''
  /** Whether the last head leaves the connection open after its response. */
  keepAlive = false
  /** The body length of the last head (0 for none), or undefined when the own server does not serve it (see servable). */
  bodyLength: number | undefined = undefined
  #fields: string[] = []
  /** Heads the parser completed in the last chunk given to it. */
  #heads = 0

  constructor(maxHeaderBytes: number) {
    const parser = new HTTPParser()
    parser.initialize(HTTPParser.REQUEST, {}, maxHeaderBytes, HTTPParser.kLenientNone)
    parser[HTTPParser.kOnHeaders] = this.#onHeaders
    parser[HTTPParser.kOnHeadersComplete] = this.#onHeadersComplete
    this.parser = parser
  }

  /**
   * Parses `head`, the bytes of one request head up to its empty line. True when the parser took
   * exactly that one head and the own server serves it; anything else is for node's server.
   */
  parse(head: Buffer): boolean {
    this.bodyLength = undefined
    this.#heads = 0
    this.#fields = []
    this.url = ''
    const result = this.parser.execute(head)
    return result === head.length && this.#heads === 1 && this.bodyLength !== undefined
  }

  /** The fields of the last head, flat `[name, value, …]`, as received; once. */
  takeFields(): string[] {
    const fields = this.#fields
    this.#fields = []
    return fields
  }

  close(): void {
    this.parser.close()
  }

  readonly #onHeaders: OnHeaders = (fields, url) => {
    for (const f of fields) this.#fields.push(f)
    this.url += url
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
    if (url !== undefined) this.url = url
    this.method = methods[method ?? -1] ?? ''
    this.keepAlive = keepAlive
    this.bodyLength = major === 1 && minor === 1 && !upgrade && method !== connect ? servable(this.#fields) : undefined
    return 0
  }
}
