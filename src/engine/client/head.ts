import type { Readable } from 'node:stream'
import { ProxyError } from '../../errors.ts'

/** How the request body is framed on the wire (RFC 9112 §6): as it is after `Content-Length`, or chunked. */
export type Framing = 'none' | 'length' | 'chunked'

export interface RequestHead {
  readonly text: string
  readonly framing: Framing
  /** The `Content-Length` announced; -1 for none. */
  readonly length: number
}

// A CR, LF or NUL in a field would end the line early and start another: a request smuggled in a value.
const lineBreak = /[\r\n\0]/

// Methods whose requests carry content by their nature: without a body they announce a length of 0 (RFC 9110 §8.6).
const expectsContent = new Set(['POST', 'PUT', 'PATCH', 'QUERY'])

/**
 * The HTTP/1.1 request head for `headers` (flat `[name, value, …]`), written as given: names in
 * their case and order. Adds the framing the list does not give (`Content-Length` of a whole body,
 * `Transfer-Encoding: chunked` for a stream of unknown length, `Content-Length: 0` for a POST
 * without one), and `Connection: close` for a connection used once. Throws `backend_error` for a
 * field that would break the head's lines.
 */
export function requestHead(
  method: string,
  path: string,
  headers: readonly string[],
  body: Readable | Buffer | null,
  close: boolean,
): RequestHead {
  if (lineBreak.test(path)) throw new ProxyError('backend_error')
  let text = `${method} ${path} HTTP/1.1\r\n`
  let length = -1
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    const value = headers[i + 1]!
    if (lineBreak.test(value) || lineBreak.test(name)) throw new ProxyError('backend_error')
    if (name.length === 14 && name.toLowerCase() === 'content-length') length = Number(value)
    text += `${name}: ${value}\r\n`
  }
  let framing: Framing = 'none'
  if (body === null) {
    if (length < 0 && expectsContent.has(method)) text += 'content-length: 0\r\n'
  } else if (length >= 0) framing = 'length'
  else if (Buffer.isBuffer(body)) {
    framing = 'length'
    length = body.length
    text += `content-length: ${length}\r\n`
  } else {
    framing = 'chunked'
    text += 'transfer-encoding: chunked\r\n'
  }
  if (close) text += 'connection: close\r\n'
  return { text: `${text}\r\n`, framing, length }
}
