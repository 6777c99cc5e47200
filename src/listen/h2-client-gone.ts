import type { Http2Session } from 'node:http2'

/**
 * Ends an HTTP/2 connection once its client has closed its side of it (a FIN), `graceMs` later at
 * the most. Such a client can send no WINDOW_UPDATE any more, so a stream whose response waits for
 * flow control would wait until the idle timeout, and its backend request with it: node closes
 * the session only gracefully on the client's GOAWAY, waiting for those very streams. Streams
 * that can still finish get the grace; then the session is destroyed, its streams abort, and each
 * exchange cancels its backend request. Call once per session.
 */
export function endWhenClientLeaves(session: Http2Session, graceMs: number): void {
  session.socket.once('end', () => {
    if (session.destroyed) return
    session.close()
    const timer = setTimeout(() => session.destroy(), graceMs).unref()
    session.once('close', () => clearTimeout(timer))
  })
}
