import { subscribe } from 'node:diagnostics_channel'
import type { ClientHttp2Stream } from 'node:http2'

type Emit = ClientHttp2Stream['emit']

let inheritedEmit: Emit | undefined

/**
 * Emits a stream's 'trailers' only once its body has been read to the end. Node emits 'trailers'
 * as the trailing HEADERS frame arrives, while DATA frames before it may still wait in a paused
 * stream (a client reading slower than the backend sends); undici stops listening for data at
 * 'trailers', and the body bytes still waiting were lost.
 */
function emitTrailersLast(this: ClientHttp2Stream, event: string | symbol, ...args: unknown[]): boolean {
  if (event === 'trailers' && !this.readableEnded) {
    this.prependOnceListener('end', () => inheritedEmit!.call(this, 'trailers', ...args))
    return true
  }
  return inheritedEmit!.call(this, event, ...args)
}

let guarded = false

/** Makes every HTTP/2 client stream this process opens from then on emit 'trailers' after its body. Idempotent. */
export function trailersAfterBody(): void {
  if (guarded) return
  guarded = true
  subscribe('http2.client.stream.created', (message) => {
    const { stream } = message as { stream: ClientHttp2Stream }
    inheritedEmit ??= stream.emit
    stream.emit = emitTrailersLast as Emit
  })
}
