import { once } from 'node:events'
import type { Config } from '../../config/schema.ts'
import type { SharedState } from '../../instance/shared-state.ts'
import type { WorkerPlace } from '../../instance/worker-share.ts'
import type { EventLog } from '../../log/events.ts'
import { ChallengeBoard } from './challenge-board.ts'
import { OnDemandPolicy } from './on-demand.ts'
import { Renewer, type Site } from './renewer.ts'
import type { AcmeConfig } from './schema.ts'
import { type CertificateStatus, statusKey } from './status.ts'
import { AcmeStore, defaultStorage, type StoredCertificate } from './store.ts'

const certKey = 'acme/cert/'
const wantKey = 'acme/want/'
// How long a handshake waits for a certificate being obtained for its name (on demand, or a first start).
const onDemandWaitMs = 90_000

interface Want {
  readonly site: number
  readonly force: boolean
  readonly at: number
}

/**
 * Automatic HTTPS for one process: the certificates of every `acme` block, as every process serves
 * them, and the challenges under way. One process, the leader (the only one, or the first worker),
 * obtains and renews (`Renewer`); it stores each certificate, then tells every process through the
 * shared state, and each reads it from the store and serves it to new handshakes. Other workers ask
 * the leader for on-demand names and forced renewals through the shared state as well.
 */
export class Acme {
  readonly board: ChallengeBoard
  readonly #sites: Site[]
  readonly #policies = new Map<Site, OnDemandPolicy>()
  readonly #siteOf = new Map<string, Site>()
  readonly #certs = new Map<string, StoredCertificate>()
  readonly #statuses = new Map<string, CertificateStatus>()
  readonly #changed = new EventTarget()
  readonly #shared: SharedState
  readonly #config: () => Config
  readonly #renewer: Renewer | undefined
  readonly #stops: (() => void)[] = []
  readonly #issued = new Map<Site, number[]>()
  readonly #startedAt = Date.now()

  constructor(config: () => Config, events: EventLog, shared: SharedState, place: WorkerPlace) {
    this.#config = config
    this.#shared = shared
    this.board = new ChallengeBoard(shared, place)
    this.#sites = acmeBlocks(config()).map((c, index) => ({
      index,
      config: c,
      store: new AcmeStore(c.storage ?? defaultStorage(), c.directory),
    }))
    for (const site of this.#sites) {
      if (site.config.on_demand) this.#policies.set(site, new OnDemandPolicy(site.config.on_demand))
      for (const name of site.config.hosts) if (!this.#siteOf.has(name)) this.#siteOf.set(name, site)
    }
    // What the store holds is served at once, before any CA is asked.
    for (const [name, site] of this.#siteOf) this.#load(name, site)
    this.#renewer = shared.leader
      ? new Renewer(events, this.board, {
          installed: (site, cert) =>
            this.#shared.set(`${certKey}${cert.name}`, { site: site.index, fingerprint: cert.fingerprint }),
          status: (status) => this.#shared.set(`${statusKey}${status.name}`, status),
        })
      : undefined
    this.#stops.push(
      shared.watch(certKey, (key, value) => {
        const { site, fingerprint } = value as { site: number; fingerprint: string }
        const name = key.slice(certKey.length)
        if (this.#certs.get(name)?.fingerprint !== fingerprint) this.#load(name, this.#sites[site]!)
      }),
      shared.watch(statusKey, (key, value) => {
        this.#statuses.set(key.slice(statusKey.length), value as CertificateStatus)
        this.#changed.dispatchEvent(new Event('change'))
      }),
    )
  }

  /**
   * Starts obtaining and renewing, in the leader: call once the listeners are bound, since the CA
   * connects to them to check challenges.
   */
  start(): void {
    if (!this.#renewer) return
    for (const [name, site] of this.#siteOf) void this.#renewer.manage(name, site)
    this.#stops.push(
      this.#shared.watch(wantKey, (key, value) => this.#wanted(key.slice(wantKey.length), value as Want)),
    )
  }

  /** The certificate to serve for `name`: its own, else a wildcard's one label up; undefined when none. */
  certificate(name: string): StoredCertificate | undefined {
    const own = this.#certs.get(name)
    if (own) return own
    const dot = name.indexOf('.')
    return dot > 0 ? this.#certs.get(`*${name.slice(dot)}`) : undefined
  }

  /** Whether some `acme` block may obtain certificates on demand. */
  get onDemand(): boolean {
    return this.#policies.size > 0
  }

  /**
   * The certificate for `name`, obtained now when an `on_demand` block allows it (its policy, and its
   * rate once the store has none). Resolves with undefined when no block allows it or obtaining failed.
   */
  async obtainOnDemand(name: string): Promise<StoredCertificate | undefined> {
    for (const [site, policy] of this.#policies) {
      if (!(await policy.allows(name, this.#config()))) continue
      // A certificate obtained before a restart is served from the store, and managed again.
      if (this.#load(name, site)) {
        this.#request(name, site, false)
        return this.#certs.get(name)
      }
      const since = Date.now()
      // After a failure (or the rate refused it) the leader tries again on its own schedule, or now
      // if the rate allows; this handshake does not wait for that.
      const failed = this.#statuses.get(name)?.lastError !== undefined
      this.#request(name, site, false)
      return failed ? undefined : this.#obtained(name, since)
    }
    return undefined
  }

  /**
   * For a name in `hosts` whose first certificate is being obtained (just after the first start):
   * resolves with it once obtained, or undefined when that fails or takes 90 s. Resolves at once for
   * names not in `hosts`, names with a certificate, and names whose last try failed.
   */
  async firstCertificate(name: string): Promise<StoredCertificate | undefined> {
    if (!this.#siteOf.get(name)?.config.hosts.includes(name)) return undefined
    // A name that failed already waits for its next try (minutes away): its handshakes are refused meanwhile.
    if (this.#statuses.get(name)?.lastError !== undefined) return this.#certs.get(name)
    return this.#obtained(name, Date.now())
  }

  /** Waits for the certificate of `name`: undefined when a try fails after `since`, or after 90 s. */
  async #obtained(name: string, since: number): Promise<StoredCertificate | undefined> {
    while (!this.#certs.has(name)) {
      const failed = this.#statuses.get(name)?.lastErrorAt
      if (failed !== undefined && Date.parse(failed) >= since - 1000) return undefined
      await once(this.#changed, 'change', { signal: AbortSignal.timeout(onDemandWaitMs) }).catch(() => {})
      if (Date.now() - since >= onDemandWaitMs) return undefined
    }
    return this.#certs.get(name)
  }

  /**
   * Renews the certificate of `name` now, whatever its schedule (the admin API's "renew"), and resolves
   * with its status once the try is over. The current certificate is served until the new one is in place.
   */
  async renew(name: string): Promise<CertificateStatus | undefined> {
    const site = this.#siteOf.get(name)
    if (!site) throw new Error(`${name} is not a certificate Portico manages`)
    const before = this.#statuses.get(name)
    if (this.#renewer) await this.#renewer.manage(name, site, true)
    else {
      this.#request(name, site, true)
      while (this.#statuses.get(name) === before) await once(this.#changed, 'change')
    }
    return this.#statuses.get(name)
  }

  /** The status of every managed certificate, by name; the same in every process. */
  status(): CertificateStatus[] {
    return [...this.#statuses.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  close(): void {
    for (const stop of this.#stops) stop()
    this.#renewer?.close()
    this.board.close()
  }

  /** Reads the certificate of `name` from the store and serves it; false when the store has none. */
  #load(name: string, site: Site): boolean {
    const cert = site.store.certificate(name)
    if (!cert) return false
    this.#siteOf.set(name, site)
    this.#certs.set(name, cert)
    this.#changed.dispatchEvent(new Event('change'))
    return true
  }

  #request(name: string, site: Site, force: boolean): void {
    this.#shared.set(`${wantKey}${name}`, { site: site.index, force, at: Date.now() } satisfies Want)
  }

  /** In the leader: a process asked for `name` (on demand) or for its renewal now. */
  #wanted(name: string, want: Want): void {
    const site = this.#sites[want.site]
    if (!site || !this.#renewer) return
    this.#siteOf.set(name, site)
    // A request replayed to a new leader after a restart renews on schedule, not again at once.
    const force = want.force && want.at >= this.#startedAt - 1000
    if (this.#renewer.has(name) && !force) return
    if (!site.config.hosts.includes(name) && !site.store.certificate(name) && !this.#withinRate(site)) {
      this.#shared.set(`${statusKey}${name}`, refused(name, 'on-demand issuance rate limit reached'))
      return
    }
    void this.#renewer.manage(name, site, force)
  }

  /** Counts one on-demand issuance against the block's `rate` per `per`; false when none is left. */
  #withinRate(site: Site): boolean {
    const { rate, per } = site.config.on_demand!
    const now = Date.now()
    const issued = this.#issued.get(site) ?? []
    this.#issued.set(site, issued)
    while (issued.length > 0 && issued[0]! <= now - per) issued.shift()
    if (issued.length >= rate) return false
    issued.push(now)
    return true
  }
}

function refused(name: string, error: string): CertificateStatus {
  const at = new Date().toISOString()
  return {
    name,
    issuer: undefined,
    notAfter: undefined,
    renewAt: undefined,
    lastRenewal: undefined,
    lastError: error,
    lastErrorAt: at,
  }
}

/** The `acme` blocks of the config's TLS listeners, in file order. */
export function acmeBlocks(config: Config): AcmeConfig[] {
  return config.listeners.flatMap((l) => (l.tls?.acme ? [l.tls.acme] : []))
}
