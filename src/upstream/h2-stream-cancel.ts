import { subscribe } from 'node:diagnostics_channel'
import { type ClientHttp2Stream, constants } from 'node:http2'

const { NGHTTP2_NO_ERROR, NGHTTP2_CANCEL } = constants

// Node's own close and destroy, which every client stream inherits; taken from the first stream seen.
let inheritedClose: ClientHttp2Stream['close'] | undefined
let inheritedDestroy: ClientHttp2Stream['destroy'] | undefined

// Streams being closed in this tick: their RST_STREAM is queued, not yet sent.
const closing = new WeakSet<ClientHttp2Stream>()

/**
 * Closes a stream as node does, with three differences. A stream left before its exchange is done
 * is reset with CANCEL, never NO_ERROR: node sends a NO_ERROR reset only once the request body is
 * sent, and destroys such a stream only once its response is read to the end, which an aborted
 * request never does. A request body the reset cuts is not ended first (neverEnd). And every
 * destroy of the stream until this tick ends is skipped (see destroyUnlessClosing): node destroys
 * the stream itself once its reset has gone out.
 */
function closeOrCancel(this: ClientHttp2Stream, code: number = NGHTTP2_NO_ERROR, callback?: () => void): void {
  const done = this.writableFinished && this.readableEnded
  const reset = code === NGHTTP2_NO_ERROR && !done ? NGHTTP2_CANCEL : code
  if (!this.closed && !this.destroyed) {
    closing.add(this)
    process.nextTick(closed, this)
    // node ends the writable side of a stream it closes; with a body still waiting for flow
    // control, its END_STREAM goes out before the RST_STREAM, and the server takes the cut body
    // for a whole one (an h2 server that was told its length answers PROTOCOL_ERROR instead).
    if (reset !== NGHTTP2_NO_ERROR && !this.writableEnded) this._final = neverEnd
  }
  inheritedClose!.call(this, reset, callback)
}

/** The writable side's end for a stream being reset: it never ends, so no END_STREAM is sent. */
function neverEnd(): void {}

function closed(stream: ClientHttp2Stream): void {
  closing.delete(stream)
}

/**
 * Destroys a stream as node does, except while closeOrCancel is closing it. A stream destroyed
 * before its reset is sent throws its queued request body away while nghttp2 still sends from it;
 * nghttp2 then sends empty DATA frames in an endless loop as soon as flow control lets it, and
 * the event loop freezes. Undici closes and at once destroys every stream it aborts, and
 * `stream.pipeline` destroys the stream from within close (on its 'aborted' event).
 */
function destroyUnlessClosing(this: ClientHttp2Stream, err?: Error): ClientHttp2Stream {
  if (closing.has(this)) return this
  return inheritedDestroy!.call(this, err)
}

let guarded = false

/**
 * Guards every HTTP/2 client stream this process opens from then on (undici's streams to HTTP/2
 * backends among them) with closeOrCancel and destroyUnlessClosing. Idempotent; call it before
 * the first stream opens.
 */
export function cancelStreamsSafely(): void {
  if (guarded) return
  guarded = true
  subscribe('http2.client.stream.created', (message) => {
    const { stream } = message as { stream: ClientHttp2Stream }
    inheritedClose ??= stream.close
    inheritedDestroy ??= stream.destroy
    stream.close = closeOrCancel
    stream.destroy = destroyUnlessClosing
  })
}
