import { Transform, type TransformCallback } from 'node:stream'

/**
 * Passes a response body on to the client unchanged while keeping a copy. `done` is called once:
 * with the whole body when it ended within `maxBytes`, or with undefined as soon as it grew past
 * them or the stream was destroyed before its end (client gone, backend failed). The body is never
 * held back: each chunk goes on as it comes.
 */
export class StoreStream extends Transform {
  #chunks: Buffer[] | undefined = []
  #bytes = 0
  readonly #maxBytes: number
  readonly #done: (body: Buffer | undefined) => void
  #called = false

  constructor(maxBytes: number, done: (body: Buffer | undefined) => void) {
    super()
    this.#maxBytes = maxBytes
    this.#done = done
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#chunks) {
      this.#bytes += chunk.length
      if (this.#bytes > this.#maxBytes) {
        this.#chunks = undefined
        this.#finish(undefined)
      } else this.#chunks.push(chunk)
    }
    callback(null, chunk)
  }

  override _flush(callback: TransformCallback): void {
    this.#finish(this.#chunks ? Buffer.concat(this.#chunks, this.#bytes) : undefined)
    callback()
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#finish(undefined)
    callback(err)
  }

  #finish(body: Buffer | undefined): void {
    if (this.#called) return
    this.#called = true
    this.#chunks = undefined
    this.#done(body)
  }
}
