import { Transform, type TransformCallback } from 'node:stream'
import { ProxyError } from '../../errors.ts'
import type { Exchange } from '../../exchange.ts'

/**
 * Passes a request body of unknown length through, counting it into `x.bytesIn`, and fails with
 * `body_too_large` the moment it exceeds `maxBytes`, so an endless chunked upload stops there.
 */
export class BodyLimit extends Transform {
  readonly #x: Exchange
  readonly #maxBytes: number

  constructor(x: Exchange, maxBytes: number) {
    super()
    this.#x = x
    this.#maxBytes = maxBytes
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#x.bytesIn += chunk.length
    if (this.#x.bytesIn > this.#maxBytes) done(new ProxyError('body_too_large'))
    else done(null, chunk)
  }
}
