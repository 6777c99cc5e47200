import { subscribe } from 'node:diagnostics_channel'
import type { ClientHttp2Stream } from 'node:http2'

type Emit = ClientHttp2Stream['emit']

let inheritedEmit: Emit | undefined

// Per stream: the 'data' chunks that came before its 'response', or null once 'response' was emitted.
const early = Symbol('data before the response')
type Ordered = ClientHttp2Stream & { [early]?: Buffer[] | null }

/**
 * Emits a stream's events in the order of its frames, for its readers (undici among them):
 *
 * - 'data' only after 'response'. Node emits 'response' on the next tick after the HEADERS frame,
 *   while the DATA frames that came in the same read are pushed at once: a stream already flowing
 *   emits them before 'response'. Undici's stream request bodies make the backend stream flowing
 *   (it listens for 'data' on it) before its response handler listens, so a backend that answers
 *   while the request body is still on its way lost its first DATA frame (an echo, its first 4 KiB).
 *   Those chunks are held and emitted right after 'response'.
 * - 'trailers' only once the body has been read to the end. Node emits 'trailers' as the trailing
 *   HEADERS frame arrives, while DATA frames before it may still wait in a paused stream (a client
 *   reading slower than the backend sends); undici stops listening for data at 'trailers'.
 */
function emitInOrder(this: Ordered, event: string | symbol, ...args: unknown[]): boolean {
  if (event === 'data' && this[early] !== null) {
    ;(this[early] ??= []).push(args[0] as Buffer)
    return true
  }
  if (event === 'response') {
    const held = this[early]
    this[early] = null
    const heard = inheritedEmit!.call(this, event, ...args)
    if (held) for (const chunk of held) inheritedEmit!.call(this, 'data', chunk)
    return heard
  }
  if (event === 'trailers' && !this.readableEnded) {
    this.prependOnceListener('end', () => inheritedEmit!.call(this, 'trailers', ...args))
    return true
  }
  return inheritedEmit!.call(this, event, ...args)
}

let guarded = false

/** Makes every HTTP/2 client stream this process opens from then on emit its events in order (emitInOrder). Idempotent. */
export function eventsInOrder(): void {
  if (guarded) return
  guarded = true
  subscribe('http2.client.stream.created', (message) => {
    const { stream } = message as { stream: ClientHttp2Stream }
    inheritedEmit ??= stream.emit
    stream.emit = emitInOrder as Emit
  })
}
