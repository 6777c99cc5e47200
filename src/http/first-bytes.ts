import type { Socket } from 'node:net'

/**
 * Reads a new connection's first bytes until `parse` knows what they hold (a PROXY header, a TLS
 * ClientHello), then calls `done` with its answer and every byte read so far. A connection that
 * says too little within `timeoutMs`, fails or closes first is destroyed, and `done` never runs.
 */
export function readFirstBytes<T>(
  socket: Socket,
  timeoutMs: number,
  parse: (bytes: Buffer) => T | 'incomplete',
  done: (result: T, bytes: Buffer) => void,
): void {
  let buffered: Buffer | undefined
  const timer = setTimeout(() => socket.destroy(), timeoutMs)
  const stop = () => {
    clearTimeout(timer)
    socket.off('data', onData)
    socket.off('error', onError)
    socket.off('close', onError)
  }
  const onError = () => {
    stop()
    socket.destroy()
  }
  const onData = (chunk: Buffer) => {
    buffered = buffered ? Buffer.concat([buffered, chunk]) : chunk
    const result = parse(buffered)
    if (result === 'incomplete') return
    stop()
    done(result, buffered)
  }
  socket.on('data', onData)
  socket.on('error', onError)
  socket.on('close', onError)
}
