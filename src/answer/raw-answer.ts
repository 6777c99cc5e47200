import type { Duplex } from 'node:stream'
import { stampAnswer } from '../http/proxy-headers.ts'

/**
 * Writes a whole HTTP/1.1 answer straight to a connection and ends the connection. Only for the
 * two answers made where there is no response to write to: a request node's parser refused
 * (client-error.ts: no request exists yet, so no exchange, route or response phases either), and
 * the redirect to HTTPS of an Upgrade request (node hands over the bare socket, and the redirect
 * comes before routing). Every other answer goes through startReply() in respond.ts. `headers`
 * is a flat `[name, value, …]` list; Via, the request id `id`, the length and `connection: close`
 * are added here.
 */
export function rawAnswer(
  socket: Duplex,
  status: number,
  reason: string,
  headers: string[],
  body: string,
  id: string,
): void {
  const head = stampAnswer([...headers, 'content-length', String(Buffer.byteLength(body)), 'connection', 'close'], id)
  let text = `HTTP/1.1 ${status} ${reason}\r\n`
  for (let i = 0; i < head.length; i += 2) text += `${head[i]}: ${head[i + 1]}\r\n`
  socket.end(`${text}\r\n${body}`)
}
