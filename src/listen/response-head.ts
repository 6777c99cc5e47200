import { ServerResponse } from 'node:http'
import type { ClientResponse } from '../exchange.ts'

/**
 * Writes a response head to an HTTP/1.1 or HTTP/2 client. `headers` is a flat `[name, value, …]`
 * list or an object; the reason phrase goes only to HTTP/1.1 clients, since HTTP/2 has none
 * (RFC 9113 §8.3.2).
 */
export function writeResponseHead(
  res: ClientResponse,
  status: number,
  headers: string[] | Record<string, string | number>,
  reason?: string,
): void {
  if (!(res instanceof ServerResponse)) res.writeHead(status, headers)
  else if (reason) res.writeHead(status, reason, headers)
  else res.writeHead(status, headers)
}
