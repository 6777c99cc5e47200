import type { OnReadOpts } from 'node:net'

/**
 * The memory every plain backend connection reads into: reads run one at a time on the event loop,
 * each is parsed before the next, and the bytes of one that are kept after it (body chunks) are
 * copied by the ResponseReader. A size of node's own reads (64 KiB).
 */
const sharedRead = Buffer.allocUnsafe(64 * 1024)

/**
 * net's `onread` option for a connection whose reads go to `onData`, without a stream's chunk,
 * 'data' event and tick per read. Each chunk is a view of the shared memory, overwritten once
 * `onData` returns.
 */
export function sharedReads(onData: (chunk: Buffer) => void): OnReadOpts {
  return {
    buffer: sharedRead,
    callback: (n) => {
      onData(sharedRead.subarray(0, n))
      return true
    },
  }
}
