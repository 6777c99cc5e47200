import type { FileHandle } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { RequestBody } from '../../exchange.ts'
import { dropHeaders } from '../../http/drop-headers.ts'

/** A body held in memory: sent as one buffer, again on a retry. */
export class MemoryBody implements RequestBody {
  readonly replayable = true
  readonly #bytes: Buffer
  readonly #prior: RequestBody | undefined

  constructor(bytes: Buffer, prior: RequestBody | undefined) {
    this.#bytes = bytes
    this.#prior = prior
  }

  open(): Buffer {
    return this.#bytes
  }

  fitHeaders(headers: string[]): void {
    fitLength(headers, this.#bytes.length, this.#prior)
  }
}

/** A body held in a temporary file: each attempt reads it from the start. */
export class FileBody implements RequestBody {
  readonly replayable = true
  readonly #file: FileHandle
  readonly #size: number
  readonly #prior: RequestBody | undefined

  constructor(file: FileHandle, size: number, prior: RequestBody | undefined) {
    this.#file = file
    this.#size = size
    this.#prior = prior
  }

  open(): Readable {
    return new FileReader(this.#file, this.#size)
  }

  fitHeaders(headers: string[]): void {
    fitLength(headers, this.#size, this.#prior)
  }
}

/**
 * Reads a file from its start with positioned reads, and never closes it: fs read streams close
 * their descriptor when destroyed, as undici does with a body after a failed attempt.
 */
class FileReader extends Readable {
  readonly #file: FileHandle
  readonly #size: number
  #at = 0

  constructor(file: FileHandle, size: number) {
    super()
    this.#file = file
    this.#size = size
  }

  override _read(size: number): void {
    if (this.#at >= this.#size) {
      this.push(null)
      return
    }
    const buffer = Buffer.allocUnsafe(Math.min(Math.max(size, 64 * 1024), this.#size - this.#at))
    this.#file.read(buffer, 0, buffer.length, this.#at).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) return this.destroy(new Error('temporary file ended early'))
        this.#at += bytesRead
        this.push(buffer.subarray(0, bytesRead))
      },
      (err: Error) => this.destroy(err),
    )
  }
}

const length = new Set(['content-length'])

/** The backend gets the body's real length, whatever the client declared (or chunked). */
function fitLength(headers: string[], size: number, prior: RequestBody | undefined): void {
  prior?.fitHeaders(headers)
  dropHeaders(headers, length)
  headers.push('content-length', String(size))
}
