import { subscribe } from 'node:diagnostics_channel'

/** An attempt that wants to know whether its request goes out on a connection that already carried one. */
export interface ReuseWatch {
  reused: boolean
}

// Sockets that have carried a request. Weak: a closed socket leaves with its last reference.
const carried = new WeakSet<object>()
let writing: ReuseWatch | undefined

// undici calls a handler's onRequestStart and then, synchronously in the same function, publishes
// `undici:client:sendHeaders` with the socket the request is written to. No other request can be
// written in between, so the watch set in onRequestStart is the one this message is about.
subscribe('undici:client:sendHeaders', (message) => {
  const { socket } = message as { socket: object }
  const watch = writing
  writing = undefined
  if (!carried.has(socket)) carried.add(socket)
  else if (watch) watch.reused = true
})

/**
 * Marks `watch` as the request undici is about to write: call it from a handler's onRequestStart
 * (only when the request goes on). `watch.reused` becomes true before any response callback when
 * the connection had carried an earlier request, i.e. it was an idle keep-alive connection.
 */
export function socketReuse(watch: ReuseWatch): void {
  writing = watch
}
