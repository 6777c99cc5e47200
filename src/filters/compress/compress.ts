import type { Duplex } from 'node:stream'
import type { Exchange } from '../../exchange.ts'
import { acceptEncoding } from '../../http/accept-encoding.ts'
import { dropHeaders } from '../../http/drop-headers.ts'
import type { ResponsePhase, RoutePhaseFactory } from '../phase.ts'
import { compressRequest } from './request-body.ts'
import type { CompressionConfig } from './schema.ts'
import { CompressStream } from './stream.ts'
import { compressTypes } from './types.ts'

/**
 * Response compression, and decoding of compressed request bodies, for routes with a
 * `compression:` block. Routes without one pass bodies through untouched.
 */
export const compress: RoutePhaseFactory<CompressionConfig | undefined> = {
  request(config) {
    const requests = config?.requests
    return requests?.enabled ? compressRequest(requests.max_decoded_size) : undefined
  },
  response(config) {
    return config?.enabled ? new CompressPhase(config) : undefined
  },
}

/** The response phase: decides per response, edits its head, and returns the compressing stream. */
class CompressPhase implements ResponsePhase {
  readonly #config: CompressionConfig
  readonly #compressible: (contentType: string) => boolean

  constructor(config: CompressionConfig) {
    this.#config = config
    this.#compressible = compressTypes(config.types)
  }

  onResponse(x: Exchange, status: number, headers: string[]): Duplex | undefined {
    // No body, or a part of one: 1xx, 204, 304 and 206 (RFC 9110 §14.2) stay as they are.
    if (status < 200 || status === 204 || status === 304 || status === 206) return undefined
    let type: string | undefined
    let length: number | undefined
    let cacheControl: string | undefined
    let vary = -1
    let etag = -1
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!.toLowerCase()
      if (name === 'content-encoding') {
        // Already encoded: never twice. `identity` is no encoding.
        if (headers[i + 1]!.trim().toLowerCase() !== 'identity') return undefined
      } else if (name === 'content-type') type = headers[i + 1]
      else if (name === 'content-length') length = Number(headers[i + 1])
      else if (name === 'cache-control')
        cacheControl = cacheControl ? `${cacheControl},${headers[i + 1]}` : headers[i + 1]
      else if (name === 'vary') vary = i
      else if (name === 'etag') etag = i
    }
    if (type === undefined || !this.#compressible(type)) return undefined
    if (length !== undefined && length < this.#config.min_size) return undefined
    // RFC 9110 §7.7: an intermediary must not transform a no-transform message.
    if (cacheControl !== undefined && /(?:^|,)\s*no-transform\s*(?:,|$)/i.test(cacheControl)) return undefined

    // The response depends on Accept-Encoding from here on, even when this client gets it as it is.
    addVary(headers, vary)
    // HEAD: the Content-Length states the size of the unencoded body; leave it true.
    if (x.req.method === 'HEAD') return undefined
    const coding = acceptEncoding(x.req.headers['accept-encoding'], this.#config.codings)
    if (coding === undefined) return undefined

    if (etag !== -1) {
      // RFC 9110 §8.8.3: the encoded body is not the same bytes, so a strong validator becomes weak.
      const value = headers[etag + 1]!
      if (!value.startsWith('W/')) headers[etag + 1] = `W/${value}`
    }
    dropHeaders(headers, dropped)
    headers.push('content-encoding', coding)
    return new CompressStream(coding, this.#config.levels[coding], length)
  }
}

/** Adds `Accept-Encoding` to the Vary at `at` (or a new Vary), unless it is there or is `*`. */
function addVary(headers: string[], at: number): void {
  if (at === -1) {
    headers.push('vary', 'Accept-Encoding')
    return
  }
  const value = headers[at + 1]!
  if (/(?:^|,)\s*(?:\*|accept-encoding)\s*(?:,|$)/i.test(value)) return
  headers[at + 1] = value.trim() === '' ? 'Accept-Encoding' : `${value}, Accept-Encoding`
}

// The encoded body has another length, and byte ranges of it would not be ranges of the original.
const dropped = new Set(['content-length', 'accept-ranges'])
