import type { FileHandle } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { type FailureCode, ignore, ProxyError } from '../../errors.ts'
import type { Exchange, RequestBody } from '../../exchange.ts'
import { bodyStream } from '../../http/has-body.ts'
import type { RequestPhase, Verdict } from '../phase.ts'
import { bufferFile } from './file.ts'
import { FileBody, MemoryBody } from './request-body.ts'

/** How a route holds request bodies. */
export interface RequestBufferSettings {
  /** Bodies up to this size stay in memory; larger ones go whole to a temporary file. */
  readonly memoryBytes: number
  /** Larger bodies get 413. */
  readonly maxBytes: number
  /** Directory for temporary files. */
  readonly dir: string
}

/**
 * Builds the request phase that reads a whole request body before a server is chosen, so that a
 * slow upload never holds a backend connection: the backend then gets it in one burst, with its
 * Content-Length, and a failed attempt can send it again to another server. A body larger than
 * `maxBytes` gets 413; a client that leaves mid-body ends the exchange. Requests without a body
 * pass at once.
 */
export function requestBuffer(settings: RequestBufferSettings): RequestPhase {
  return {
    onRequest(x) {
      const h = x.req.headers
      const declared = h['content-length']
      if (x.body === undefined && h['transfer-encoding'] === undefined && (declared === undefined || declared === '0'))
        return undefined
      if (declared !== undefined && Number(declared) > settings.maxBytes) return 'body_too_large'
      const prior = x.body
      const source = prior ? prior.open() : bodyStream(x)
      if (Buffer.isBuffer(source)) return undefined
      return new BodyReader(x, source, prior, settings).done
    },
  }
}

/** Reads one body whole, into memory or a temporary file, and puts it on the exchange. */
class BodyReader {
  readonly done: Promise<Verdict>
  readonly #x: Exchange
  readonly #source: Readable
  readonly #prior: RequestBody | undefined
  readonly #settings: RequestBufferSettings
  readonly #chunks: Buffer[] = []
  #size = 0
  #file: Promise<FileHandle> | undefined
  #written = 0
  #writing: Promise<unknown> = Promise.resolve()
  #settle!: (verdict: Verdict) => void

  constructor(x: Exchange, source: Readable, prior: RequestBody | undefined, settings: RequestBufferSettings) {
    this.#x = x
    this.#source = source
    this.#prior = prior
    this.#settings = settings
    this.done = new Promise((resolve) => (this.#settle = resolve))
    source.on('data', this.#onData)
    source.once('end', this.#onEnd)
    source.once('error', this.#onError)
    source.once('close', this.#onClose)
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#size += chunk.length
    if (this.#size > this.#settings.maxBytes) {
      this.#fail('body_too_large')
      return
    }
    if (this.#file === undefined && this.#size <= this.#settings.memoryBytes) {
      this.#chunks.push(chunk)
      return
    }
    if (this.#file === undefined) {
      this.#file = bufferFile(this.#settings.dir)
      // The file lives as long as the exchange: retries read it again.
      const file = this.#file
      this.#x.res.once('close', () => void file.then((f) => f.close()).catch(ignore))
    }
    const pending = this.#chunks.splice(0)
    pending.push(chunk)
    // Disk is slower than the socket: the client waits while each write lands.
    this.#source.pause()
    const file = this.#file
    this.#writing = this.#writing
      .then(() => file)
      .then(async (f) => {
        for (const c of pending) {
          await f.write(c, 0, c.length, this.#written)
          this.#written += c.length
          this.#x.spilledBytes += c.length
        }
        this.#source.resume()
      })
    this.#writing.catch(() => this.#fail('proxy_error'))
  }

  readonly #onEnd = (): void => {
    this.#detach()
    const x = this.#x
    x.bytesIn = this.#size
    x.requestBuffered = true
    if (this.#file === undefined) {
      x.body = new MemoryBody(Buffer.concat(this.#chunks, this.#size), this.#prior)
      this.#settle(undefined)
      return
    }
    const file = this.#file
    this.#writing
      .then(() => file)
      .then(
        (f) => {
          x.body = new FileBody(f, this.#size, this.#prior)
          this.#settle(undefined)
        },
        () => this.#settle('proxy_error'),
      )
  }

  readonly #onError = (err: Error): void => {
    this.#fail(err instanceof ProxyError ? err.code : 'client_aborted')
  }

  // A client that closes before the end of its body has left.
  readonly #onClose = (): void => this.#fail('client_aborted')

  #fail(code: FailureCode): void {
    this.#detach()
    this.#chunks.length = 0
    this.#settle(code)
  }

  #detach(): void {
    const s = this.#source
    s.off('data', this.#onData)
    s.off('end', this.#onEnd)
    s.off('error', this.#onError)
    s.off('close', this.#onClose)
  }
}
