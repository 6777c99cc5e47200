import { Transform, type TransformCallback } from 'node:stream'
import { ownBuffer } from './own-buffer.ts'

/**
 * Passes a response body on to the client unchanged while keeping a copy. `done` is called once:
 * with the whole body when it ended within `maxBytes`, or with undefined as soon as it grew past
 * them or the stream was destroyed before its end (client gone, backend failed). The body is never
 * held back: each chunk goes on as it comes.
 *
 * With `length` (the backend's Content-Length), the copy is one buffer of exactly that size, made
 * at the first byte and filled as the chunks pass: the chunks are not kept, and the body is never
 * held twice (chunks and their concatenation) until the next collection. A body that turns out
 * longer or shorter than said is not stored. Without a length, the chunks are kept and joined once
 * at the end.
 *
 * `detach()` turns it into a sink for the store alone once the client has gone: from then on it
 * passes nothing on, and the destroy that the client's side sends down the response phases is
 * ignored, so the backend's bytes keep coming in until the end, the size limit or `abandon()`.
 */
export class StoreStream extends Transform {
  #chunks: Buffer[] | undefined = []
  /** The body's one buffer, when its length was said; undefined once the copy is given up. */
  #body: Buffer | undefined
  readonly #length: number | undefined
  #bytes = 0
  readonly #maxBytes: number
  readonly #done: (body: Buffer | undefined) => void
  #called = false
  /** Set while detached: called when the copy is dropped, since nobody wants the rest of the body then. */
  #dropped: (() => void) | undefined
  /** Set while detached: called when the copy is over, whichever way. */
  #ended: (() => void) | undefined

  constructor(maxBytes: number, done: (body: Buffer | undefined) => void, length?: number) {
    super()
    this.#maxBytes = maxBytes
    this.#done = done
    this.#length = length !== undefined && length <= maxBytes ? length : undefined
  }

  /**
   * The client is gone: keeps the copy going without it, calls `dropped` if the copy is given up
   * later (past the size limit), and `ended` once the copy is over, whichever way. Returns false,
   * and changes nothing, when the copy is over already.
   */
  detach(dropped: () => void, ended: () => void): boolean {
    if (this.#called || this.destroyed) return false
    this.#dropped = dropped
    this.#ended = ended
    // What the client's side still listens for goes nowhere now; what is buffered is let go, so
    // that a write waiting for the client's pace goes on.
    this.removeAllListeners('data')
    this.removeAllListeners('end')
    this.unpipe()
    this.resume()
    return true
  }

  /** Whether it stores without a client: detached, and the copy not over yet. */
  get detached(): boolean {
    return this.#dropped !== undefined && !this.#called
  }

  /** The backend failed while detached: the copy is dropped and the stream destroyed for good. */
  abandon(): void {
    this.#dropped = undefined
    super.destroy()
  }

  override destroy(error?: Error): this {
    if (this.detached) return this
    return super.destroy(error)
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#chunks) this.#keep(chunk)
    if (this.#dropped) callback()
    else callback(null, chunk)
  }

  override _flush(callback: TransformCallback): void {
    this.#finish(this.#chunks ? this.#whole() : undefined)
    callback()
  }

  #keep(chunk: Buffer): void {
    const at = this.#bytes
    this.#bytes += chunk.length
    const limit = this.#length ?? this.#maxBytes
    if (this.#bytes > limit) {
      const dropped = this.#dropped
      this.#finish(undefined)
      dropped?.()
      return
    }
    if (this.#length === undefined) {
      this.#chunks!.push(chunk)
      return
    }
    // Not zero-filled: every byte is written before the body is stored, or it is not stored. Never
    // from node's shared pool (see own-buffer.ts).
    this.#body ??= Buffer.allocUnsafeSlow(this.#length)
    chunk.copy(this.#body, at)
  }

  /** The whole body, or undefined when it is shorter than its stated length. */
  #whole(): Buffer | undefined {
    if (this.#length === undefined) return ownBuffer(this.#chunks!, this.#bytes)
    if (this.#bytes !== this.#length) return undefined
    return this.#body ?? Buffer.alloc(0)
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#finish(undefined)
    callback(err)
  }

  #finish(body: Buffer | undefined): void {
    if (this.#called) return
    this.#called = true
    this.#chunks = undefined
    this.#body = undefined
    this.#done(body)
    this.#ended?.()
  }
}
