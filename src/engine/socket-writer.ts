import type { Socket } from 'node:net'
import { getSystemErrorName } from 'node:util'

/** The write calls of a libuv stream handle, as node's net module makes them (its C++ StreamBase). */
interface StreamHandle {
  writeLatin1String(req: WriteReq, data: string): number
  writeBuffer(req: WriteReq, data: Uint8Array): number
  /** `chunks` is `[chunk, encoding, …]`; a Buffer's encoding is not read. */
  writev(req: WriteReq, chunks: Piece[], allBuffers: boolean): number
}

/** Node's WriteWrap: the request object a write the kernel did not take at once completes on. */
interface WriteReq {
  handle: StreamHandle
  oncomplete: (this: WriteReq, status: number) => void
  /** What the write sends, kept alive until libuv has sent it. */
  data: unknown
  writer: SocketWriter
  done: (() => void) | undefined
  /** The bytes of the write, counted in the writer's `inFlight` until it completes. */
  bytes: number
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq
  streamBaseState: Int32Array
  kLastWriteWasAsync: number
  kBytesWritten: number
}

// Node's own binding for stream writes, the one its net module writes with. `process.binding` is
// deprecated in its documentation only (DEP0111); the node version is pinned by package.json.
const { WriteWrap, streamBaseState, kLastWriteWasAsync, kBytesWritten } = (
  process as unknown as { binding(name: 'stream_wrap'): StreamWrapBinding }
).binding('stream_wrap')

/** One part of a vectored write: a chunk, or the encoding of the string before it. */
export type Piece = string | Uint8Array

type SocketInternals = Socket & { _handle: StreamHandle | null; _unrefTimer(): void; encrypted?: boolean }

/**
 * Writes to a plain TCP socket straight through its handle, as `socket.write()` does underneath,
 * without the writable stream's per-write records, callbacks and ticks. A write the kernel takes
 * whole costs one system call and nothing more; the rest of one is queued by libuv, in order, and
 * counted in `inFlight` until it is sent. When the stream holds writes of its own (or the socket
 * is TLS, or not connected), it writes through the stream instead, so the order on the wire is
 * always the order of the calls.
 */
export class SocketWriter {
  readonly socket: Socket
  /** Bytes of direct writes that libuv still holds. */
  inFlight = 0
  readonly #direct: boolean
  /** A request object no write is using: every write the kernel takes at once leaves it free. */
  #spare: WriteReq | undefined = undefined
  /** Called once the queued direct writes have all been sent. */
  #waiting: (() => void)[] = []

  constructor(socket: Socket) {
    this.socket = socket
    this.#direct = (socket as SocketInternals).encrypted !== true
  }

  /**
   * Writes `data` (a string as latin1). Returns true when the kernel took it all at once; else
   * `done`, when given, is called once it has been sent. A failed write destroys the socket with
   * its error, and `done` is never called.
   */
  write(data: string | Uint8Array, done?: () => void): boolean {
    const socket = this.socket as SocketInternals
    const handle = this.#handle(socket)
    if (handle === undefined) {
      socket.write(data, 'latin1', ifSent(done))
      return false
    }
    const req = this.#take(handle)
    const err = typeof data === 'string' ? handle.writeLatin1String(req, data) : handle.writeBuffer(req, data)
    return this.#dispatched(req, err, data, done)
  }

  /**
   * Writes `pieces` (`[chunk, encoding, …]`) in one system call, as {@link write} writes one (one
   * latin1 string or one buffer as such a plain write). When it returns false, libuv may hold the
   * array until the write is sent: the caller must not change it.
   */
  writev(pieces: Piece[], done?: () => void): boolean {
    if (pieces.length === 2 && pieces[1] !== 'utf8') return this.write(pieces[0]!, done)
    const socket = this.socket as SocketInternals
    const handle = this.#handle(socket)
    if (handle === undefined) {
      socket.cork()
      const last = pieces.length - 2
      for (let i = 0; i < last; i += 2) socket.write(pieces[i]!, pieces[i + 1] as BufferEncoding)
      socket.write(pieces[last]!, pieces[last + 1] as BufferEncoding, ifSent(done))
      socket.uncork()
      return false
    }
    const req = this.#take(handle)
    return this.#dispatched(req, handle.writev(req, pieces, false), pieces, done)
  }

  /** Bytes written and not yet taken by the kernel, through the handle or the stream. */
  queued(): number {
    return this.inFlight + this.socket.writableLength
  }

  /**
   * Returns true when everything written so far has reached the kernel; else `done` is called once
   * it has (never when a write fails).
   */
  whenSent(done: () => void): boolean {
    const socket = this.socket
    if (socket.writableLength !== 0) {
      socket.write('', 'latin1', ifSent(done))
      return false
    }
    if (this.inFlight === 0) return true
    this.#waiting.push(done)
    return false
  }

  /** The handle to write to directly, or undefined when the stream must carry the write. */
  #handle(socket: SocketInternals): StreamHandle | undefined {
    if (!this.#direct || socket.writableLength !== 0 || socket.connecting || socket.destroyed) return undefined
    const handle = socket._handle
    if (handle === null) return undefined
    // A write is activity: it puts off the socket's inactivity timeout, as the stream's would.
    socket._unrefTimer()
    return handle
  }

  #take(handle: StreamHandle): WriteReq {
    const req = this.#spare ?? newReq(this)
    this.#spare = undefined
    req.handle = handle
    return req
  }

  #dispatched(req: WriteReq, err: number, data: unknown, done: (() => void) | undefined): boolean {
    if (err !== 0) {
      this.#spare = req
      this.socket.destroy(writeError(err))
      return false
    }
    if (streamBaseState[kLastWriteWasAsync] === 0) {
      this.#spare = req
      return true
    }
    // libuv holds the rest: the request object is its until it completes.
    req.data = data
    req.done = done
    req.bytes = streamBaseState[kBytesWritten]!
    this.inFlight += req.bytes
    return false
  }

  /** A queued write was sent, or failed. */
  completed(req: WriteReq, status: number): void {
    const done = req.done
    req.data = undefined
    req.done = undefined
    this.inFlight -= req.bytes
    const socket = this.socket
    if (status < 0) {
      if (!socket.destroyed) socket.destroy(writeError(status))
      return
    }
    if (socket.destroyed) return
    done?.()
    if (this.inFlight === 0 && this.#waiting.length > 0) for (const waiter of this.#waiting.splice(0)) waiter()
  }
}

/**
 * The stream's write callback for `done`: the stream calls it with the error of a failed write,
 * which destroys the socket, and a writer's `done` is for sent bytes only.
 */
function ifSent(done: (() => void) | undefined): ((err?: Error | null) => void) | undefined {
  return done && ((err) => err == null && done())
}

function newReq(writer: SocketWriter): WriteReq {
  const req = new WriteWrap()
  req.oncomplete = oncomplete
  req.writer = writer
  req.data = undefined
  req.done = undefined
  req.bytes = 0
  return req
}

function oncomplete(this: WriteReq, status: number): void {
  this.writer.completed(this, status)
}

/** The error a failed write destroys its socket with, as node's stream would (`code` such as `EPIPE`). */
function writeError(status: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(status)
  return Object.assign(new Error(`write ${code}`), { errno: status, code, syscall: 'write' })
}
