import type { SecureContext } from 'node:tls'
import { lazyBuiltin } from '../../lazy-builtin.ts'
import type { Certificates } from '../certificates.ts'
import type { Acme } from './manager.ts'

type Done = (err: Error | null, ctx?: SecureContext) => void

/**
 * The `SNICallback` of a TLS listener with `acme`: a certificate from the files that names the server
 * name exactly or by wildcard first, then the ACME certificate of that name (for a name in `hosts`
 * whose first certificate is under way, the handshake waits for it), then one obtained on demand
 * (the handshake waits for it too), else the listener's first certificate file, else the handshake
 * is refused. ACME contexts share the listener's TLS settings and ticket key, are made on
 * first use of each certificate version, and are dropped by `reset()` when those settings change.
 * A renewed certificate serves new handshakes at once; open connections keep theirs.
 */
export class AcmeSni {
  readonly #acme: Acme
  readonly #files: Certificates
  #contexts = new Map<string, { fingerprint: string; context: SecureContext }>()

  constructor(acme: Acme, files: Certificates) {
    this.#acme = acme
    this.#files = files
  }

  /** Forgets every context made: the listener's settings or ticket key changed. */
  reset(): void {
    this.#contexts = new Map()
  }

  readonly sni = (servername: string, done: Done): void => {
    const name = servername.toLowerCase()
    const context = this.#files.match(name) ?? this.#managed(name)
    if (context) return void done(null, context)
    // A name in `hosts` still waiting for its first certificate, else one that may be obtained now.
    const waiting = this.#acme
      .firstCertificate(name)
      .then((cert) => (cert || !this.#acme.onDemand ? cert : this.#acme.obtainOnDemand(name)))
    waiting.then(
      () => {
        const obtained = this.#managed(name)
        if (obtained) done(null, obtained)
        else this.#fallback(name, done)
      },
      (err: Error) => done(err),
    )
  }

  #fallback(name: string, done: Done): void {
    const fallback = this.#files.lookup(name)
    if (fallback) done(null, fallback)
    else done(new Error(`no certificate for ${JSON.stringify(name)}`))
  }

  #managed(name: string): SecureContext | undefined {
    const cert = this.#acme.certificate(name)
    if (!cert) return undefined
    const made = this.#contexts.get(cert.name)
    if (made?.fingerprint === cert.fingerprint) return made.context
    const context = lazyBuiltin('node:tls').createSecureContext({
      ...this.#files.sharedOptions(),
      cert: cert.cert,
      key: cert.key,
    })
    this.#contexts.set(cert.name, { fingerprint: cert.fingerprint, context })
    return context
  }
}
