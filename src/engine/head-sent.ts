import type { Duplex } from 'node:stream'

/**
 * Whether a response head is already out on `socket`, a connection node's HTTP/1.1 server serves:
 * node keeps the response in flight on the socket as `_httpMessage`, and its own default
 * 'clientError' handler asks the same before it writes a status line.
 */
export function headSentOn(socket: Duplex): boolean {
  return (socket as { _httpMessage?: { headersSent: boolean } | null })._httpMessage?.headersSent === true
}
