import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex, Writable } from 'node:stream'
import { startResponse } from '../answer/respond.ts'
import { relay } from '../engine/index.ts'
import type { Exchange, UpgradeExchange } from '../exchange.ts'
import { clientResponseHeaders } from '../http/proxy-headers.ts'

/**
 * Opens a tunnel once the backend switched protocols: passes the backend's 101 to `client` as the
 * backend wrote it, then `rest` (what came after the 101), sends the `held` client bytes
 * (`heldBytes` of them) to the backend first, and from then on relays bytes both ways untouched,
 * counting them on `x`. A tunnel quiet for `idleMs` either way calls `onIdle`. The client's
 * listeners that held its bytes must be off before this is called.
 */
export function splice(
  x: UpgradeExchange,
  client: Socket,
  backend: Socket,
  res: IncomingMessage,
  rest: Buffer,
  held: readonly Buffer[],
  heldBytes: number,
  idleMs: number,
  onIdle: () => void,
): void {
  x.status = 101
  // The 101 passes as the backend wrote it: its fields (Sec-WebSocket-Accept, …) belong to the handshake.
  let text = `HTTP/1.1 101 ${res.statusMessage}\r\n`
  const raw = res.rawHeaders
  for (let i = 0; i < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`
  text += '\r\n'
  x.res.detachSocket(client)
  backend.setTimeout(idleMs)
  client.setTimeout(idleMs, onIdle)
  x.bytesOut += rest.length
  client.write(text)
  if (rest.length > 0) client.write(rest)
  x.bytesIn += heldBytes
  for (const chunk of held) backend.write(chunk)
  relay(client, backend, (bytes) => {
    x.bytesIn += bytes
  })
  relay(backend, client, (bytes) => {
    x.bytesOut += bytes
  })
  backend.resume()
  client.resume()
}

/**
 * Ends a socket once what was written to it is flushed, then frees it; at once when it is broken.
 * One that never flushes is freed by its idle timeout.
 */
export function shut(socket: Duplex): void {
  if (socket.destroyed) return
  if (socket.writableFinished || socket.errored) {
    socket.destroy()
    return
  }
  socket.once('finish', () => socket.destroy())
  socket.end()
}

/**
 * Relays a backend's answer that switched nothing to the client as an ordinary response, through
 * the route's response phases, with backpressure both ways. `ended` runs with the client's
 * response once the backend's body ended; it ends that response.
 */
export function relayAnswer(x: Exchange, res: IncomingMessage, ended: (out: Writable) => void): void {
  x.status = res.statusCode!
  const headers = clientResponseHeaders(x, res.rawHeaders, res.headers.connection)
  const out: Writable = startResponse(x, x.status, headers, res.statusMessage)
  const resume = () => res.resume()
  res.on('data', (chunk: Buffer) => {
    x.bytesOut += chunk.length
    if (!out.write(chunk)) {
      res.pause()
      out.once('drain', resume)
    }
  })
  res.on('end', () => ended(out))
}
