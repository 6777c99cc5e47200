import type { EventLog } from '../../log/events.ts'
import type { ChallengeBoard } from './challenge-board.ts'
import { obtain } from './obtain.ts'
import { backoffMs, renewalTime, runAt } from './renewal.ts'
import type { AcmeConfig } from './schema.ts'
import type { CertificateStatus } from './status.ts'
import { isoTime } from './status.ts'
import type { AcmeStore, StoredCertificate } from './store.ts'

/** A CA and the storage of its account and certificates: one `acme` block of the config. */
export interface Site {
  readonly index: number
  readonly config: AcmeConfig
  readonly store: AcmeStore
}

/** What the renewer tells the processes that serve. */
export interface RenewerOutput {
  /** The certificate of `name` is new in the store. */
  installed(site: Site, cert: StoredCertificate): void
  status(status: CertificateStatus): void
}

interface Managed {
  readonly site: Site
  cancel: (() => void) | undefined
  running: Promise<void> | undefined
  failures: number
  lastRenewal: number | undefined
}

/**
 * Obtains and renews certificates; runs in one process only (the leader). Each name gets a timer for
 * its renewal (when a third of its lifetime remains), and after a failure one for its next try, with
 * growing backoff and jitter; a failure leaves the certificate in the store, and so the one served,
 * as it was. Every outcome goes to the event log and to `output`.
 */
export class Renewer {
  readonly #names = new Map<string, Managed>()
  readonly #events: EventLog
  readonly #board: ChallengeBoard
  readonly #output: RenewerOutput
  #closed = false

  constructor(events: EventLog, board: ChallengeBoard, output: RenewerOutput) {
    this.#events = events
    this.#board = board
    this.#output = output
  }

  /** Whether `name` is managed here. */
  has(name: string): boolean {
    return this.#names.has(name)
  }

  /**
   * Manages `name` from now on: obtains it at once when the store has none (or it is due), else
   * schedules its renewal. `force` renews now whatever the schedule. Resolves once this try is over.
   */
  manage(name: string, site: Site, force = false): Promise<void> {
    let m = this.#names.get(name)
    if (!m) {
      m = { site, cancel: undefined, running: undefined, failures: 0, lastRenewal: undefined }
      this.#names.set(name, m)
    }
    if (m.running) return m.running
    const cert = site.store.certificate(name)
    if (cert && !force && renewalTime(cert) > Date.now()) {
      this.#holding(name, m, cert, 'certificate in store')
      return Promise.resolve()
    }
    return this.#renew(name, m)
  }

  close(): void {
    this.#closed = true
    for (const m of this.#names.values()) m.cancel?.()
  }

  /** `name` holds `cert`, valid past its renewal time: its renewal is scheduled, reported and logged as `event`. */
  #holding(name: string, m: Managed, cert: StoredCertificate, event: string): void {
    const renewAt = renewalTime(cert)
    this.#schedule(name, m, renewAt)
    this.#report(name, m, cert, undefined)
    this.#events.info(event, {
      name,
      issuer: cert.issuer,
      not_after: isoTime(cert.notAfter),
      renew_at: isoTime(renewAt),
    })
  }

  #renew(name: string, m: Managed): Promise<void> {
    m.cancel?.()
    m.running = (async () => {
      try {
        const { cert, key } = await obtain(m.site.config, name, m.failures, { store: m.site.store, board: this.#board })
        const stored = m.site.store.saveCertificate(name, cert, key)
        m.failures = 0
        m.lastRenewal = Date.now()
        this.#output.installed(m.site, stored)
        this.#holding(name, m, stored, 'certificate obtained')
      } catch (err) {
        m.failures++
        const retryAt = Date.now() + backoffMs(m.failures)
        const error = errorText(err)
        const current = m.site.store.certificate(name)
        this.#schedule(name, m, retryAt)
        this.#report(name, m, current, { error, at: Date.now(), retryAt })
        this.#events.error(current ? 'certificate renewal failed, the current one stays' : 'certificate not obtained', {
          name,
          error,
          failures: m.failures,
          retry_at: isoTime(retryAt),
          not_after: isoTime(current?.notAfter),
        })
      } finally {
        m.running = undefined
      }
    })()
    return m.running
  }

  #schedule(name: string, m: Managed, at: number): void {
    m.cancel?.()
    if (this.#closed) return
    m.cancel = runAt(at, () => void this.#renew(name, m))
  }

  #report(
    name: string,
    m: Managed,
    cert: StoredCertificate | undefined,
    failure: { error: string; at: number; retryAt: number } | undefined,
  ): void {
    this.#output.status({
      name,
      issuer: cert?.issuer,
      notAfter: isoTime(cert?.notAfter),
      renewAt: isoTime(failure?.retryAt ?? (cert ? renewalTime(cert) : undefined)),
      lastRenewal: isoTime(m.lastRenewal ?? cert?.notBefore),
      lastError: failure?.error,
      lastErrorAt: isoTime(failure?.at),
    })
  }
}

/** An ACME problem's detail when there is one (acme-client puts it in the message), else the error's message. */
function errorText(err: unknown): string {
  const e = err as { message?: string; code?: string }
  return (e.message || e.code || String(err)).slice(0, 500)
}
