import type { Socket } from 'node:net'
import type { Readable } from 'node:stream'

/** Whether `body` holds bytes read and not yet taken, which `read()` returns as one Buffer. */
export function bytesWaiting(body: Readable): boolean {
  return (
    body.readableFlowing !== true &&
    body.readableLength > 0 &&
    !body.readableObjectMode &&
    body.readableEncoding === null
  )
}

/** A request body sent as it arrives: chunked or of known `length`; with `free`, its chunks are freed once sent. */
export interface StreamedBody {
  readonly body: Readable
  readonly chunked: boolean
  readonly length: number
  readonly free: boolean
}

/**
 * Writes one chunk of a streamed body, framed as `chunked` says; false when the socket's buffer is full. With
 * `free`, the chunk's memory is given back once the kernel has it ({@link freeChunk}).
 */
export function writeBody(socket: Socket, chunk: Buffer, chunked: boolean, free: boolean): boolean {
  const written = free ? () => freeChunk(chunk) : undefined
  return chunked ? writeChunk(socket, chunk, written) : socket.write(chunk, written)
}

/**
 * Writes `chunk` as one chunk of a chunked body, in one system call; false when the socket's buffer is full.
 * `written`, when given, is called once the kernel has the chunk (or the write failed).
 */
export function writeChunk(socket: Socket, chunk: Buffer, written?: () => void): boolean {
  socket.cork()
  socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1')
  socket.write(chunk)
  const more = socket.write('\r\n', 'latin1', written)
  socket.uncork()
  return more
}

// Below this, a chunk may share its memory with others (node's pool for small buffers) and is not worth freeing.
const freeFrom = 4096

/**
 * Gives the memory of `chunk` back at once, when the chunk is the whole of its own ArrayBuffer (as node's HTTP/1.1
 * parser makes each body chunk), and empties it. Otherwise the memory waits for V8 to find the chunk dead: a chunk
 * that lived across two young collections (one waiting on a slow backend) waits for a full one, and a stream of them
 * piles up meanwhile (docs/PERFORMANCE.md, "Peak memory"). The constraint: nothing may read `chunk` after this call,
 * so it is called only once the kernel has the chunk, and only for a body whose chunks nobody keeps.
 */
export function freeChunk(chunk: Buffer): void {
  const memory = chunk.buffer
  if (chunk.byteOffset === 0 && chunk.byteLength === memory.byteLength && chunk.byteLength >= freeFrom) {
    // Detaching frees the backing store now; a SharedArrayBuffer has no transfer and is left alone.
    if (memory instanceof ArrayBuffer) memory.transfer(0)
  }
}
