import { constants, X509Certificate } from 'node:crypto'
import { readFileSync, unwatchFile, watchFile } from 'node:fs'
import type { SecureContext, SecureContextOptions } from 'node:tls'
import { deriveKey } from '../instance/secret.ts'
import { lazyBuiltin } from '../lazy-builtin.ts'
import type { EventLog } from '../log/events.ts'
import type { ListenerTlsConfig } from './schema.ts'

/** The certificates of one listener, by server name, as they are now. */
interface CertificateSet {
  readonly exact: ReadonlyMap<string, SecureContext>
  /** Wildcard certificates by the suffix they cover (`*.example.com` → `.example.com`). */
  readonly wildcard: ReadonlyMap<string, SecureContext>
  /** The first certificate; none when every certificate comes from ACME. */
  readonly fallback: SecureContext | undefined
  /** Options of the default certificate (or without one), for `server.setSecureContext`. */
  readonly fallbackOptions: SecureContextOptions
}

/**
 * The certificates of one TLS listener, chosen by SNI: an exact name first, then a one-label
 * wildcard, then the first certificate. Certificate and key files are polled every
 * `reload_poll`; when one changes, every file is read again and the new set serves new
 * handshakes, while open connections keep theirs. A set that fails to load (a key half written, a
 * mismatched pair) is refused with an event, and the running one stays until the next change.
 *
 * Session ticket keys are derived from the instance's secret and the current period of
 * `ticket_key_rotation`, so every worker, and every instance given the same secret, encrypts and
 * decrypts tickets with the same key and changes it at the same moment, with no message between
 * them. Client-initiated renegotiation is refused on every context (a cheap way to make the server
 * do handshakes, and nothing in HTTP needs it).
 */
export class Certificates {
  #config: ListenerTlsConfig
  readonly #events: EventLog
  readonly #changed: (options: SecureContextOptions) => void
  readonly #onChange = () => this.#reload()
  #files: string[] = []
  readonly #secret: Buffer
  // One ticket key for every context, so that a session resumes whichever certificate served it.
  #ticketKeys: Buffer
  #rotation: NodeJS.Timeout | undefined
  #set: CertificateSet

  /**
   * Loads every certificate now; throws when one cannot be used. `changed` runs after each reload
   * and each ticket key rotation. `secret` is the instance's key that ticket keys derive from.
   */
  constructor(
    config: ListenerTlsConfig,
    events: EventLog,
    changed: (options: SecureContextOptions) => void,
    secret: Buffer,
  ) {
    this.#config = config
    this.#events = events
    this.#changed = changed
    this.#secret = secret
    this.#ticketKeys = this.#currentTicketKeys()
    this.#set = this.#load()
    this.#watch()
    this.#scheduleRotation()
  }

  /**
   * Serves the certificates of a reloaded config from now on, when they differ. A set that cannot be
   * loaded is refused with an event, and the running one stays.
   */
  update(config: ListenerTlsConfig): void {
    if (JSON.stringify(config) === JSON.stringify(this.#config)) return
    const previous = this.#config
    this.#config = config
    if (!this.#reload()) {
      this.#config = previous
      return
    }
    this.close()
    this.#watch()
    this.#scheduleRotation()
  }

  /** Secure context options of the default certificate, for creating the server. */
  get defaultOptions(): SecureContextOptions {
    return this.#set.fallbackOptions
  }

  /** The `SNICallback` of a TLS server: the context for `servername`, or the default one. */
  readonly sni = (servername: string, done: (err: Error | null, ctx?: SecureContext) => void): void => {
    done(null, this.lookup(servername))
  }

  /** The context serving `servername` (any case); undefined when there is no certificate at all. */
  lookup(servername: string): SecureContext | undefined {
    return this.match(servername) ?? this.#set.fallback
  }

  /** The context of a certificate that names `servername` (exactly or by wildcard), else undefined. */
  match(servername: string): SecureContext | undefined {
    const set = this.#set
    const name = servername.toLowerCase()
    const exact = set.exact.get(name)
    if (exact) return exact
    const dot = name.indexOf('.')
    return dot > 0 ? set.wildcard.get(name.slice(dot)) : undefined
  }

  /** Options every context of this listener shares (versions, ciphers, ticket key, client CAs), without a certificate. */
  sharedOptions(): SecureContextOptions {
    const { cert: _cert, key: _key, ...shared } = this.#set.fallbackOptions
    return shared
  }

  /** Stops watching the files and rotating the ticket key. */
  close(): void {
    for (const file of this.#files) unwatchFile(file, this.#onChange)
    clearTimeout(this.#rotation)
    this.#rotation = undefined
  }

  /** The ticket key of the current rotation period: 48 bytes (name, HMAC key, AES key), as node takes them. */
  #currentTicketKeys(): Buffer {
    const period = Math.floor(Date.now() / this.#config.ticket_key_rotation)
    return deriveKey(this.#secret, `tls session ticket key ${period}`, 48)
  }

  /** Serves the next period's ticket key from the start of that period; tickets under the old one start afresh. */
  #scheduleRotation(): void {
    const every = this.#config.ticket_key_rotation
    this.#rotation = setTimeout(
      () => {
        this.#ticketKeys = this.#currentTicketKeys()
        this.#reload('ticket key rotated')
        this.#scheduleRotation()
      },
      every - (Date.now() % every),
    )
    this.#rotation.unref()
  }

  #watch(): void {
    this.#files = [...new Set(this.#config.certificates.flatMap((c) => [c.cert, c.key]))]
    const interval = this.#config.reload_poll
    for (const file of this.#files) watchFile(file, { interval, persistent: false }, this.#onChange)
  }

  /** Loads the files again; returns false, keeping the served set, when they cannot be used. */
  #reload(why = 'certificates reloaded'): boolean {
    try {
      this.#set = this.#load()
    } catch (err) {
      this.#events.error('certificate reload refused, the served certificates stay', { error: (err as Error).message })
      return false
    }
    this.#changed(this.#set.fallbackOptions)
    this.#events.info(why, { certificates: this.#config.certificates.length })
    return true
  }

  #load(): CertificateSet {
    const config = this.#config
    const ca = config.client_auth ? readFileSync(config.client_auth.ca) : undefined
    const exact = new Map<string, SecureContext>()
    const wildcard = new Map<string, SecureContext>()
    let fallback: { context: SecureContext; options: SecureContextOptions } | undefined
    const shared: SecureContextOptions = {
      ca,
      minVersion: config.min_version,
      ciphers: config.ciphers,
      ticketKeys: this.#ticketKeys,
      sessionTimeout: config.session_timeout,
      sessionIdContext: 'portico',
      secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
    }
    for (const c of config.certificates) {
      const cert = readFileSync(c.cert)
      const options: SecureContextOptions = { cert, key: readFileSync(c.key), ...shared }
      const context = lazyBuiltin('node:tls').createSecureContext(options)
      fallback ??= { context, options }
      for (const name of c.names ?? certificateNames(cert)) {
        const lower = name.toLowerCase()
        // The first certificate that names a host serves it.
        if (lower.startsWith('*.')) {
          if (!wildcard.has(lower.slice(1))) wildcard.set(lower.slice(1), context)
        } else if (!exact.has(lower)) exact.set(lower, context)
      }
    }
    return { exact, wildcard, fallback: fallback?.context, fallbackOptions: fallback?.options ?? shared }
  }
}

/** The DNS names a PEM certificate is for: its subjectAltName DNS entries, else its common name. */
function certificateNames(pem: Buffer): string[] {
  const x509 = new X509Certificate(pem)
  const names = (x509.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4))
  if (names.length > 0) return names
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)
  return cn ? [cn[1]!] : []
}
