import { once } from 'node:events'
import type { SecureContext } from 'node:tls'
import type { SharedState } from '../../instance/shared-state.ts'
import type { WorkerPlace } from '../../instance/worker-share.ts'
import { lazyBuiltin } from '../../lazy-builtin.ts'

/** One challenge under way for a name: what proves control of it to the CA. */
export interface Challenge {
  readonly token: string
  readonly keyAuthorization: string
  /** For TLS-ALPN-01: the self-signed certificate (with the acmeIdentifier extension) and its key. */
  readonly alpn?: { readonly cert: string; readonly key: string }
}

const challengeKey = 'acme/challenge/'
const seenKey = 'acme/seen/'
// How long the process that obtains waits for every worker to hold a challenge before asking the CA.
const spreadTimeoutMs = 10_000
// A challenge left behind by a process that died mid-order is dropped after this, here and everywhere.
const challengeLifetimeMs = 10 * 60_000

/**
 * The challenges under way, as every process sees them: the CA may connect to any worker, so the one
 * that obtains a certificate publishes each challenge through the shared state, and asks the CA to
 * look only once every worker has said it holds it. Keyed by name, so it holds at most one entry per
 * name whatever the number of renewals.
 */
export class ChallengeBoard {
  readonly #shared: SharedState
  readonly #place: WorkerPlace
  readonly #http = new Map<string, Challenge>()
  readonly #alpn = new Map<string, SecureContext>()
  readonly #seen = new EventTarget()
  readonly #stops: (() => void)[] = []

  constructor(shared: SharedState, place: WorkerPlace) {
    this.#shared = shared
    this.#place = place
    this.#stops.push(
      shared.watch(challengeKey, (key, value) =>
        this.#apply(key.slice(challengeKey.length), value as Challenge | null),
      ),
      shared.watch(seenKey, () => this.#seen.dispatchEvent(new Event('seen'))),
    )
  }

  /** Whether a TLS-ALPN-01 challenge is under way here: only then are ClientHellos read before TLS. */
  get alpnPending(): boolean {
    return this.#alpn.size > 0
  }

  /** The key authorization to answer `GET /.well-known/acme-challenge/<token>` for `host` with, or undefined. */
  httpAnswer(host: string, token: string): string | undefined {
    const c = this.#http.get(host.toLowerCase())
    return c && c.token === token ? c.keyAuthorization : undefined
  }

  /** The context of the TLS-ALPN-01 certificate for `name`, or undefined. */
  alpnContext(name: string): SecureContext | undefined {
    return this.#alpn.get(name)
  }

  /** Makes every process answer `challenge` for `name`; resolves once all hold it (or after 10 s). */
  async publish(name: string, challenge: Challenge): Promise<void> {
    const deadline = AbortSignal.timeout(spreadTimeoutMs)
    this.#shared.set(`${challengeKey}${name}`, challenge)
    while (!this.#everyoneHolds(name, challenge.token) && !deadline.aborted) {
      await once(this.#seen, 'seen', { signal: deadline }).catch(() => {})
    }
  }

  /** Stops answering the challenge of `name` everywhere. */
  withdraw(name: string): void {
    this.#shared.set(`${challengeKey}${name}`, null)
  }

  close(): void {
    for (const stop of this.#stops) stop()
  }

  #everyoneHolds(name: string, token: string): boolean {
    for (let i = 0; i < this.#place.count; i++) if (this.#shared.get(`${seenKey}${i}/${name}`) !== token) return false
    return true
  }

  #apply(name: string, challenge: Challenge | null): void {
    this.#http.delete(name)
    this.#alpn.delete(name)
    if (!challenge) return
    if (challenge.alpn) {
      const tls = lazyBuiltin('node:tls')
      this.#alpn.set(name, tls.createSecureContext({ cert: challenge.alpn.cert, key: challenge.alpn.key }))
    } else this.#http.set(name, challenge)
    this.#shared.set(`${seenKey}${this.#place.index}/${name}`, challenge.token)
    setTimeout(() => {
      if (this.#shared.get(`${challengeKey}${name}`) !== challenge) return
      this.#http.delete(name)
      this.#alpn.delete(name)
    }, challengeLifetimeMs).unref()
  }
}
