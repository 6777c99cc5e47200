import type { Exchange } from '../exchange.ts'
import { lazyBuiltin } from '../lazy-builtin.ts'

/**
 * Cuts a response that cannot be finished so that the client sees it aborted. An HTTP/1.1 client's
 * connection is destroyed. An HTTP/2 client's stream is reset with INTERNAL_ERROR: destroying it
 * without an error would send RST_STREAM NO_ERROR, which a client reads as the body's clean end, a
 * truncated body presented as complete (RFC 9113 §8.1.1). The connection's other streams go on.
 */
export function cutResponse(x: Exchange): void {
  const stream = x.h2
  if (stream === undefined) {
    x.res.destroy()
    return
  }
  if (!stream.closed && !stream.destroyed) stream.close(lazyBuiltin('node:http2').constants.NGHTTP2_INTERNAL_ERROR)
  x.res.destroy()
}
