import type { FileHandle } from 'node:fs/promises'
import { Duplex } from 'node:stream'
import { ignore } from '../../errors.ts'
import type { Exchange } from '../../exchange.ts'
import { bufferFile } from './file.ts'

/** Where a response is held, in bytes, and the directory for its temporary file. */
export interface BufferLimits {
  readonly memoryBytes: number
  readonly diskBytes: number
  readonly dir: string
}

// Chunk size of reads back from the temporary file.
const readSize = 64 * 1024

/**
 * Takes a response body as fast as the backend sends it and gives it to the client at the
 * client's pace. Chunks are held in memory up to `memoryBytes`, then appended to a temporary file
 * that takes up to `diskBytes` in all, over the whole response (as nginx's
 * `proxy_max_temp_file_size`): a client that catches up with the file does not earn it more. While
 * memory is full and the file's allowance is spent, a chunk is taken only once the client has read
 * it (plain streaming with backpressure). Order is always kept: memory, then file, then overflow.
 * The temporary file is closed when the stream ends or is destroyed, whatever the cause.
 */
export class BufferStream extends Duplex {
  readonly #x: Exchange
  readonly #limits: BufferLimits
  readonly #memory: Buffer[] = []
  #memoryBytes = 0
  #file: FileHandle | undefined
  #opening: Promise<FileHandle> | undefined
  /** Bytes given to the file, written or being written. */
  #fileEnd = 0
  /** Bytes the file holds for certain. */
  #fileWritten = 0
  /** Bytes given to the file over the whole response: never more than `diskBytes`. */
  #spilled = 0
  /** Bytes of the file already given to the client. */
  #fileRead = 0
  #fileReading = false
  /** Chunks beyond both limits, each with the write callback that waits for the client to take it. */
  readonly #overflow: Buffer[] = []
  readonly #overflowDone: ((err?: Error | null) => void)[] = []
  #ended = false
  #wanted = false

  constructor(x: Exchange, limits: BufferLimits) {
    super({ writableHighWaterMark: readSize })
    this.#x = x
    this.#limits = limits
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.#overflow.length === 0) {
      if (this.#fileEnd === this.#fileRead && this.#memoryBytes + chunk.length <= this.#limits.memoryBytes) {
        this.#memory.push(chunk)
        this.#memoryBytes += chunk.length
        done()
        this.#pump()
        return
      }
      if (this.#spilled + chunk.length <= this.#limits.diskBytes) {
        this.#spill(chunk, done)
        return
      }
    }
    this.#overflow.push(chunk)
    this.#overflowDone.push(done)
    this.#pump()
  }

  override _final(done: (err?: Error | null) => void): void {
    this.#ended = true
    this.#pump()
    done()
  }

  override _read(): void {
    this.#wanted = true
    this.#pump()
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    const file = this.#file ?? this.#opening
    this.#file = undefined
    this.#opening = undefined
    if (file) void Promise.resolve(file).then((f) => f.close().catch(ignore), ignore)
    done(err)
  }

  /** Gives the client what it can take now, in order: memory, file, overflow, then the end. */
  #pump(): void {
    while (this.#wanted && !this.destroyed) {
      if (this.#memory.length > 0) {
        const chunk = this.#memory.shift()!
        this.#memoryBytes -= chunk.length
        this.#wanted = this.push(chunk)
      } else if (this.#fileRead < this.#fileEnd) {
        if (!this.#fileReading && this.#fileRead < this.#fileWritten) this.#readFile()
        return
      } else if (this.#overflow.length > 0) {
        const chunk = this.#overflow.shift()!
        const done = this.#overflowDone.shift()!
        this.#wanted = this.push(chunk)
        done()
      } else {
        if (this.#ended) this.push(null)
        return
      }
    }
  }

  #spill(chunk: Buffer, done: (err?: Error | null) => void): void {
    const at = this.#fileEnd
    this.#fileEnd += chunk.length
    this.#spilled += chunk.length
    this.#x.spilledBytes += chunk.length
    this.#handle()
      .then((file) => file.write(chunk, 0, chunk.length, at))
      .then(
        () => {
          this.#fileWritten = at + chunk.length
          done()
          this.#pump()
        },
        (err) => done(err),
      )
  }

  #readFile(): void {
    this.#fileReading = true
    const at = this.#fileRead
    const buffer = Buffer.allocUnsafe(Math.min(readSize, this.#fileWritten - at))
    this.#handle()
      .then((file) => file.read(buffer, 0, buffer.length, at))
      .then(({ bytesRead }) => {
        this.#fileReading = false
        if (this.destroyed) return
        if (bytesRead === 0) throw new Error('temporary file ended early')
        this.#fileRead = at + bytesRead
        // The client caught up with the file: memory may hold the next chunks again.
        if (this.#fileRead === this.#fileEnd) this.#fileRead = this.#fileWritten = this.#fileEnd = 0
        this.#wanted = this.push(buffer.subarray(0, bytesRead))
        this.#pump()
      })
      .catch((err: Error) => this.destroy(err))
  }

  #handle(): Promise<FileHandle> {
    if (this.#file) return Promise.resolve(this.#file)
    this.#opening ??= bufferFile(this.#limits.dir).then((file) => {
      if (this.destroyed) {
        void file.close().catch(ignore)
        throw new Error('buffer closed')
      }
      this.#file = file
      return file
    })
    return this.#opening
  }
}
