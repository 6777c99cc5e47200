import { createRequire } from 'node:module'

/**
 * Node's own HTTP/1.1 parser (llhttp, in C++), the one its http client and server use. Portico's
 * backend connections parse responses with it, and its own server requests: strict framing
 * (RFC 9112 §6), no per-message stream objects, and no copy of the parser in JavaScript. It is
 * reached through node's `_http_common` module, which has no type declarations; these are the
 * parts used here.
 */
export interface Parser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void
  /** Parses a chunk; the number of bytes taken, or the parse error (its `code` is `HPE_*`). */
  execute(chunk: Buffer): number | Error
  /** The connection ended: completes a response framed by the end of the connection. */
  finish(): number | Error
  close(): void
  [key: number]: unknown
}

interface ParserModule {
  HTTPParser: {
    new (): Parser
    readonly REQUEST: number
    readonly RESPONSE: number
    readonly kOnHeaders: number
    readonly kOnHeadersComplete: number
    readonly kOnBody: number
    readonly kOnMessageComplete: number
    readonly kLenientNone: number
  }
  /** Method names by the number the parser gives a request's method. */
  methods: readonly string[]
}

export const { HTTPParser, methods } = createRequire(import.meta.url)('_http_common') as ParserModule

/** Called with raw header lines that arrive before the head is complete (many or long headers) and with trailers. */
export type OnHeaders = (fields: string[], url: string) => void

/**
 * Called when a head is complete. `fields` is the flat `[name, value, …]` list, or undefined when
 * the lines came through `OnHeaders` first; `method` and `url` are a request's. Returning 1 tells
 * the parser the response has no body (the answer to a HEAD, or an informational one).
 */
export type OnHeadersComplete = (
  versionMajor: number,
  versionMinor: number,
  fields: string[] | undefined,
  method: number | undefined,
  url: string | undefined,
  statusCode: number,
  statusMessage: string,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number | undefined
