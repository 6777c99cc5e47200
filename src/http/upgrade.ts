import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { connectionTokens } from './hop-by-hop.ts'

/**
 * The protocols of an `Upgrade` request field that `allowed` names, as the client wrote them
 * (`name` or `name/version`, RFC 9110 §7.8), joined for the field Portico sends on; undefined when
 * none is allowed. `allowed` holds lower-case protocol names; `h2c` is never among them, since
 * HTTP/2 reaches Portico itself (listeners.http2) and a backend never sees it as an upgrade.
 */
export function upgradeOffer(value: string | undefined, allowed: ReadonlySet<string>): string | undefined {
  if (value === undefined || allowed.size === 0) return undefined
  let offer: string | undefined
  for (const part of value.split(',')) {
    const token = part.trim()
    const name = protocolName(token)
    if (name === 'h2c' || !allowed.has(name)) continue
    offer = offer === undefined ? token : `${offer}, ${token}`
  }
  return offer
}

/**
 * Whether a backend's `101 Switching Protocols` switches to what was offered: its `Upgrade` field
 * names one or more protocols, each of them offered (names compared without case, RFC 9110 §7.8).
 */
export function upgradeAccepted(answer: string | string[] | undefined, offer: string): boolean {
  if (answer === undefined) return false
  const offered = new Set(offer.split(',').map((t) => protocolName(t.trim())))
  const chosen = (Array.isArray(answer) ? answer.join(',') : answer).split(',').map((t) => protocolName(t.trim()))
  return chosen.length > 0 && chosen.every((name) => name !== '' && offered.has(name))
}

/**
 * Whether node's server should hand `req` over as an upgrade (its `shouldUpgradeCallback`): an
 * HTTP/1.1 request without a body that asks for a protocol `allowed` names. Any other `Upgrade`
 * request is read and served as an ordinary one, its `Upgrade` dropped as hop-by-hop, so that its
 * body and the requests after it on the connection are parsed as HTTP, never passed on raw.
 */
export function mayUpgrade(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  if (req.httpVersion !== '1.1') return false
  const h = req.headers
  // A body would have to be read before switching (RFC 9110 §7.8); WebSocket handshakes have none.
  if (h['transfer-encoding'] !== undefined || (h['content-length'] ?? '0') !== '0') return false
  return upgradeOffer(h.upgrade, allowed) !== undefined
}

/**
 * Whether `req` asked to upgrade (`Upgrade`, with `upgrade` among its `Connection` tokens) and is
 * served as an ordinary request instead. Its connection must close after the answer: node's parser
 * drops whatever arrived after such a request in the same read, so a request pipelined behind it
 * would get no answer on a connection left open.
 */
export function declinedUpgrade(req: { readonly headers: IncomingHttpHeaders }): boolean {
  const h = req.headers
  if (h.upgrade === undefined || h.connection === undefined) return false
  return connectionTokens(h.connection)?.has('upgrade') === true
}

/** The lower-case name of a protocol token (`websocket`, `foo/2` → `foo`). */
function protocolName(token: string): string {
  const slash = token.indexOf('/')
  return (slash < 0 ? token : token.slice(0, slash)).toLowerCase()
}
