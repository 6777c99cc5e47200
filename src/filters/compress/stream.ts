import { Transform, type TransformCallback } from 'node:stream'
import { dropEngine, type Engine, type EngineOwner, finishEngine, takeEngine } from './engines.ts'
import type { Coding } from './schema.ts'

/**
 * Compresses a response body as it flows, with backpressure: a chunk is taken only once the
 * coder has consumed the one before and the client side has room. Whenever the backend pauses
 * (no more input in this turn of the event loop), the coder is flushed, so a streamed response
 * such as server-sent events reaches the client event by event, not held in the coder's buffer.
 * The coder comes from engines.ts, and goes back there once the body is done.
 */
export class CompressStream extends Transform implements EngineOwner {
  #engine: Engine | undefined
  #flushQueued = false

  /** `level` is the gzip level, Brotli quality or zstd level; `sizeHint` the body length if known. */
  constructor(coding: Coding, level: number, sizeHint: number | undefined) {
    super()
    this.#engine = takeEngine(coding, level, sizeHint, this)
  }

  output(chunk: Buffer): void {
    this.push(chunk)
  }

  failed(err: Error): void {
    this.destroy(err)
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const engine = this.#engine
    if (!engine) {
      done()
      return
    }
    engine.stream.write(chunk, done)
    if (this.#flushQueued) return
    this.#flushQueued = true
    setImmediate(this.#flush)
  }

  override _flush(done: TransformCallback): void {
    const engine = this.#engine
    if (!engine) {
      done()
      return
    }
    this.#engine = undefined
    finishEngine(engine, () => done())
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    const engine = this.#engine
    this.#engine = undefined
    if (engine) dropEngine(engine)
    done(err)
  }

  readonly #flush = (): void => {
    this.#flushQueued = false
    const engine = this.#engine
    if (engine && !this.destroyed) engine.stream.flush(engine.flushKind)
  }
}
