import { Transform, type TransformCallback } from 'node:stream'

/**
 * Passes a response body on to the client unchanged while keeping a copy. `done` is called once:
 * with the whole body when it ended within `maxBytes`, or with undefined as soon as it grew past
 * them or the stream was destroyed before its end (client gone, backend failed). The body is never
 * held back: each chunk goes on as it comes.
 *
 * `detach()` turns it into a sink for the store alone once the client has gone: from then on it
 * passes nothing on, and the destroy that the client's side sends down the response phases is
 * ignored, so the backend's bytes keep coming in until the end, the size limit or `abandon()`.
 */
export class StoreStream extends Transform {
  #chunks: Buffer[] | undefined = []
  #bytes = 0
  readonly #maxBytes: number
  readonly #done: (body: Buffer | undefined) => void
  #called = false
  /** Set while detached: called when the copy is dropped, since nobody wants the rest of the body then. */
  #dropped: (() => void) | undefined
  /** Set while detached: called when the copy is over, whichever way. */
  #ended: (() => void) | undefined

  constructor(maxBytes: number, done: (body: Buffer | undefined) => void) {
    super()
    this.#maxBytes = maxBytes
    this.#done = done
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
    if (this.#chunks) {
      this.#bytes += chunk.length
      if (this.#bytes > this.#maxBytes) {
        this.#chunks = undefined
        const dropped = this.#dropped
        this.#finish(undefined)
        dropped?.()
      } else this.#chunks.push(chunk)
    }
    if (this.#dropped) callback()
    else callback(null, chunk)
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
    this.#ended?.()
  }
}
