import { createHash } from 'node:crypto'
import type { Exchange } from '../../exchange.ts'
import type { RequestPhase, Verdict } from '../phase.ts'
import { parseStoredHash, type StoredHash, verifyPassword } from './password.ts'
import { addRequestField, removeRequestFields } from './request-fields.ts'
import type { BasicAuthConfig } from './schema.ts'

/** Credentials checked lately, kept per phase so that a signed-in client costs one hash check, not one per request. */
const rememberedMax = 1024

/**
 * HTTP Basic authentication (RFC 7617) of one route. A request whose `Authorization` names a
 * listed user with the right password goes on, without that header unless `forward_authorization`;
 * any other (none, another scheme, malformed, unknown user, wrong password) ends with 401
 * `auth_required` and `WWW-Authenticate: Basic realm="…"`. A password is checked off the event loop
 * and in constant time; a user name that is not listed costs the same check, so the time taken does
 * not tell which names exist. Verified credentials are remembered by their SHA-256 digest (never in
 * clear), so only the first request of a client pays for the hash.
 */
export class BasicAuthPhase implements RequestPhase {
  readonly #users: ReadonlyMap<string, StoredHash>
  /** Checked against when the user is unknown, so that such a request takes as long as any other. */
  readonly #decoy: StoredHash
  readonly #challenge: Record<string, string>
  readonly #strip: ReadonlySet<string>
  readonly #userHeader: string | undefined
  readonly #remembered = new Map<string, string>()

  constructor(config: BasicAuthConfig) {
    const users = new Map<string, StoredHash>()
    for (const [name, text] of Object.entries(config.users)) users.set(name, parseStoredHash(text) as StoredHash)
    this.#users = users
    this.#decoy = users.values().next().value!
    this.#challenge = { 'www-authenticate': `Basic realm="${config.realm}", charset="UTF-8"` }
    const strip = new Set<string>()
    if (!config.forward_authorization) strip.add('authorization')
    this.#userHeader = config.user_header
    if (config.user_header) strip.add(config.user_header.toLowerCase())
    this.#strip = strip
  }

  onRequest(x: Exchange): Verdict | Promise<Verdict> {
    const header = x.req.headers.authorization
    const credentials = header === undefined ? undefined : decode(header)
    if (credentials === undefined) return this.#refuse(x)
    const digest = createHash('sha256').update(header!).digest('base64')
    const known = this.#remembered.get(digest)
    if (known !== undefined) return this.#admit(x, known)
    const [user, password] = credentials
    const stored = this.#users.get(user)
    return verifyPassword(password, stored ?? this.#decoy).then(
      (ok) => {
        if (!ok || stored === undefined) return this.#refuse(x)
        this.#remember(digest, user)
        return this.#admit(x, user)
      },
      () => this.#refuse(x),
    )
  }

  #admit(x: Exchange, user: string): undefined {
    if (this.#strip.size > 0) removeRequestFields(x.req, this.#strip)
    if (this.#userHeader) addRequestField(x.req, this.#userHeader, user)
    return undefined
  }

  #refuse(x: Exchange): Verdict {
    x.answerHeaders = this.#challenge
    return 'auth_required'
  }

  #remember(digest: string, user: string): void {
    const remembered = this.#remembered
    // Oldest first out: a Map iterates in insertion order.
    if (remembered.size >= rememberedMax) remembered.delete(remembered.keys().next().value!)
    remembered.set(digest, user)
  }
}

/** `Basic <base64 of user:password>` → [user, password]; undefined when it is not that. */
function decode(header: string): [string, string] | undefined {
  const m = /^basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header)
  if (!m) return undefined
  const text = Buffer.from(m[1]!, 'base64').toString('utf8')
  const colon = text.indexOf(':')
  if (colon <= 0) return undefined
  return [text.slice(0, colon), text.slice(colon + 1)]
}
