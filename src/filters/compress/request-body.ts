import { type Duplex, pipeline, type Readable } from 'node:stream'
import { ProxyError } from '../../errors.ts'
import type { Exchange, RequestBody } from '../../exchange.ts'
import { dropHeaders } from '../../http/drop-headers.ts'
import { bodyStream, hasBody } from '../../http/has-body.ts'
import { lazyBuiltin } from '../../lazy-builtin.ts'
import { BodyLimit } from '../limits/body-limit.ts'
import type { RequestPhase } from '../phase.ts'

// Each coding's decoder, by the zlib function that makes it.
const decoders = {
  gzip: 'createGunzip',
  'x-gzip': 'createGunzip',
  deflate: 'createInflate',
  br: 'createBrotliDecompress',
  zstd: 'createZstdDecompress',
} as const

/**
 * Builds the request phase that decodes a body sent with one `Content-Encoding` Portico knows
 * (gzip, deflate, br, zstd), for backends that cannot. The decoded body streams on without
 * Content-Encoding and Content-Length; past `maxDecodedBytes` the exchange fails with 413
 * (`body_too_large`), and a body that does not decode with 400 (`bad_encoding`). Other bodies pass untouched.
 * Counts decoded bytes as `bytes_in`.
 */
export function compressRequest(maxDecodedBytes: number): RequestPhase {
  return {
    onRequest(x) {
      const coding = x.req.headers['content-encoding']?.trim().toLowerCase()
      // A request without a body has nothing to decode, whatever its Content-Encoding says.
      if (coding === undefined || !Object.hasOwn(decoders, coding) || !hasBody(x)) return undefined
      const decoder = lazyBuiltin('node:zlib')[decoders[coding as keyof typeof decoders]]()
      x.body = new DecodedBody(x, decoder, maxDecodedBytes)
      return undefined
    },
  }
}

// The decoded body has neither the coding nor the length the client declared.
const decodedDrops = new Set(['content-encoding', 'content-length'])

/** A body decoded as it streams; it can be read once. */
class DecodedBody implements RequestBody {
  readonly replayable = false
  readonly #stream: Readable

  constructor(x: Exchange, decoder: NodeJS.ReadWriteStream & Duplex, maxBytes: number) {
    x.bytesIn = 0
    const limit = new BodyLimit(x, maxBytes)
    this.#stream = limit
    const source = bodyStream(x)
    // A decoder error means the client sent something that is not what it says it is. Heard before
    // pipeline() hears it, so the body fails with that code; the client's stream is left alone, so
    // that the 400 can still reach it.
    decoder.once('error', (err) => limit.destroy(new ProxyError('bad_encoding', err)))
    source.once('error', (err) => limit.destroy(err))
    source.pipe(decoder)
    pipeline(decoder, limit, (err) => {
      if (err) source.unpipe(decoder)
    })
  }

  open(): Readable {
    return this.#stream
  }

  fitHeaders(headers: string[]): void {
    dropHeaders(headers, decodedDrops)
  }
}
