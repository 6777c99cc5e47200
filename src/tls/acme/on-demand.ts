import { isIP } from 'node:net'
import { LRUCache } from 'lru-cache'
import type { Config } from '../../config/schema.ts'
import type { AcmeConfig } from './schema.ts'

type OnDemandConfig = NonNullable<AcmeConfig['on_demand']>

// A name that may be a DNS name at all (RFC 1035 letters, digits, hyphens; at least one dot).
const dnsName = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
// How long an answer of the `ask` endpoint is remembered, so a client cannot make Portico ask at each handshake.
const askMemoryMs = 60_000
const askTimeoutMs = 10_000

/**
 * Whether a certificate may be obtained on demand for a name a client asked for: the name must be a
 * DNS name that some route accepts (by its host condition; a route without one accepts any), and be
 * in `allow` or approved by the `ask` endpoint (GET `?domain=<name>` answered 200). Answers of `ask`,
 * yes or no, are remembered for a minute for up to 10,000 names.
 */
export class OnDemandPolicy {
  readonly #config: OnDemandConfig
  readonly #asked = new LRUCache<string, Promise<boolean>>({ max: 10_000, ttl: askMemoryMs })

  constructor(config: OnDemandConfig) {
    this.#config = config
  }

  async allows(name: string, config: Config): Promise<boolean> {
    if (!dnsName.test(name) || isIP(name) !== 0 || !routeAccepts(config, name)) return false
    if (this.#config.allow?.some((pattern) => nameMatches(pattern, name))) return true
    const ask = this.#config.ask
    if (ask === undefined) return false
    let answer = this.#asked.get(name)
    if (answer === undefined) {
      answer = askEndpoint(ask, name)
      this.#asked.set(name, answer)
    }
    return answer
  }
}

async function askEndpoint(ask: string, name: string): Promise<boolean> {
  const url = new URL(ask)
  url.searchParams.set('domain', name)
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(askTimeoutMs), redirect: 'manual' })
    await res.body?.cancel()
    return res.status === 200
  } catch {
    return false
  }
}

/** Exact names, or "*.example.com" for one label under example.com. */
function nameMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase()
  if (!p.startsWith('*.')) return p === name
  const dot = name.indexOf('.')
  return dot > 0 && name.slice(dot) === p.slice(1)
}

/** Whether a request for `name` could reach some route, as far as host conditions tell. */
function routeAccepts(config: Config, name: string): boolean {
  return config.routes.some((route) => {
    const host = route.match?.host
    if (host === undefined) return true
    if (typeof host === 'object' && !Array.isArray(host)) return new RegExp(host.regex).test(name)
    return (typeof host === 'string' ? [host] : host).some((p) => {
      const lower = p.toLowerCase()
      return lower.startsWith('*.') ? name.length > lower.length - 1 && name.endsWith(lower.slice(1)) : lower === name
    })
  })
}
