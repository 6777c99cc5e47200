import type { Cancellable, Exchange } from '../exchange.ts'
import type { StoreStream } from './store-stream.ts'

/** Stores whose client left while their backend was still sending, by exchange. */
const detached = new WeakMap<Exchange, StoreStream>()
let running = 0

/** Stores under way in this process whose client has gone: for metrics, and for tests to know a departure was seen. */
export function storesWithoutClient(): number {
  return running
}

/**
 * Lets the store of `x`'s response outlive its client: when the client goes before the body has
 * ended, the backend request goes on and the body goes to the store alone, up to the route's
 * `max_object_size` (past it, the backend request is stopped then). Called once the store has
 * begun, with the backend request under way as `x.attempt`; without one it does nothing.
 */
export function storeOutlivesClient(x: Exchange, store: StoreStream): void {
  const attempt = x.attempt
  if (attempt === undefined) return
  const keeper: Cancellable = {
    cancel() {
      const ended = () => {
        running--
        detached.delete(x)
      }
      if (store.detach(() => attempt.cancel(), ended)) {
        detached.set(x, store)
        running++
      } else attempt.cancel()
    },
  }
  x.attempt = keeper
}

/** Whether `x`'s client has gone while its response is still being stored. */
export function storingWithoutClient(x: Exchange): boolean {
  return detached.get(x)?.detached === true
}

/** `x`'s backend request failed: a store that outlived its client is dropped. */
export function abandonStore(x: Exchange): void {
  const store = detached.get(x)
  if (store === undefined) return
  store.abandon()
}
