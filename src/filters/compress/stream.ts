import { Transform, type TransformCallback } from 'node:stream'
import type { BrotliCompress, Gzip, ZstdCompress } from 'node:zlib'
import { lazyBuiltin } from '../../lazy-builtin.ts'
import type { Coding } from './schema.ts'

type Engine = Gzip | BrotliCompress | ZstdCompress

/**
 * Compresses a response body as it flows, with backpressure: a chunk is taken only once the
 * coder has consumed the one before and the client side has room. Whenever the backend pauses
 * (no more input in this turn of the event loop), the coder is flushed, so a streamed response
 * such as server-sent events reaches the client event by event, not held in the coder's buffer.
 */
export class CompressStream extends Transform {
  readonly #engine: Engine
  readonly #flushKind: number | undefined
  #flushQueued = false

  /** `level` is the gzip level, Brotli quality or zstd level; `sizeHint` the body length if known. */
  constructor(coding: Coding, level: number, sizeHint: number | undefined) {
    super()
    this.#engine = engine(coding, level, sizeHint)
    // gzip's default flush resets the dictionary; a sync flush keeps it, so the ratio holds.
    this.#flushKind = coding === 'gzip' ? lazyBuiltin('node:zlib').constants.Z_SYNC_FLUSH : undefined
    this.#engine.on('data', (chunk: Buffer) => this.push(chunk))
    this.#engine.on('error', (err) => this.destroy(err))
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#engine.write(chunk, done)
    if (this.#flushQueued) return
    this.#flushQueued = true
    setImmediate(this.#flush)
  }

  override _flush(done: TransformCallback): void {
    this.#engine.once('end', () => done())
    this.#engine.end()
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.#engine.destroy()
    done(err)
  }

  readonly #flush = (): void => {
    this.#flushQueued = false
    if (!this.destroyed && !this.#engine.writableEnded) this.#engine.flush(this.#flushKind)
  }
}

function engine(coding: Coding, level: number, sizeHint: number | undefined): Engine {
  const { constants, createBrotliCompress, createGzip, createZstdCompress } = lazyBuiltin('node:zlib')
  if (coding === 'gzip') return createGzip({ level })
  if (coding === 'br') {
    const params: Record<number, number> = { [constants.BROTLI_PARAM_QUALITY]: level }
    if (sizeHint !== undefined) params[constants.BROTLI_PARAM_SIZE_HINT] = sizeHint
    return createBrotliCompress({ params })
  }
  return createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: level } })
}
