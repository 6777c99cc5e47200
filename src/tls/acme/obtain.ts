import { generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Agent } from 'node:https'
import { lazyBuiltin } from '../../lazy-builtin.ts'
import type { ChallengeBoard } from './challenge-board.ts'
import { type DnsProvider, execProvider } from './dns-exec.ts'
import type { AcmeConfig, ChallengeType } from './schema.ts'
import type { AcmeStore } from './store.ts'

type AcmeClient = typeof import('acme-client')
type AxiosConfig = { retryValidateStatus?: ((status: number) => boolean) | null }

let loaded: Promise<AcmeClient> | undefined
// HTTPS agents by directory origin, for CAs whose certificate chains to a `directory_ca`.
const agents = new Map<string, Agent>()

/**
 * acme-client, loaded on first use (with axios and its crypto, several MB that a config without
 * `acme` never loads) and set up once: a timeout on every request, few retries of its own (a failed
 * issuance is retried by the renewal schedule, with backoff), and the trusted CAs of each directory.
 */
function acmeClient(): Promise<AcmeClient> {
  loaded ??= import('acme-client').then((m) => {
    // acme-client's request interceptor makes every response an error, for its response handler to sort.
    const acme = ((m as { default?: AcmeClient }).default ?? m) as AcmeClient
    acme.axios.defaults.timeout = 30_000
    // acme-client's own retry handler turns an error without a response (ECONNREFUSED, a timeout)
    // into "Cannot read properties of undefined"; this one keeps the cause and leaves retries to the
    // renewal schedule. Responses still reach acme-client, which reads each ACME status itself.
    acme.axios.interceptors.response.clear()
    acme.axios.interceptors.response.use(null, (error: { config?: AxiosConfig; response?: { status: number } }) => {
      const validate = error.config?.retryValidateStatus
      if (!error.response || (validate && !validate(error.response.status))) return Promise.reject(error)
      return error.response
    })
    acme.axios.interceptors.request.use((request) => {
      const agent = request.url ? agents.get(new URL(request.url).origin) : undefined
      if (agent) request.httpsAgent = agent
      return request
    })
    return acme
  })
  return loaded
}

/** What obtaining one certificate needs besides the site's config. */
export interface ObtainDeps {
  readonly store: AcmeStore
  readonly board: ChallengeBoard
}

/**
 * Obtains a certificate for `name` from the site's CA (RFC 8555): registers the account (made and
 * stored on first use), orders the name, proves control of it with one challenge of the type that
 * `attempt` picks from the site's `challenges` (the first for attempt 0, the next after a failure,
 * and so on), then sends a CSR for a new ECDSA P-256 key. Resolves with the chain and key in PEM;
 * rejects with the CA's reason.
 */
export async function obtain(
  site: AcmeConfig,
  name: string,
  attempt: number,
  deps: ObtainDeps,
): Promise<{ cert: string; key: string }> {
  const acme = await acmeClient()
  trustDirectoryCa(site)
  const client = await registeredClient(acme, site, deps.store)
  const order = await client.createOrder({ identifiers: [{ type: 'dns', value: name }] })
  const preferred = rotate(site.challenges, attempt)
  for (const authz of await client.getAuthorizations(order)) {
    if (authz.status === 'valid') continue
    const challenge = preferred.map((type) => authz.challenges.find((c) => c.type === type)).find((c) => c)
    if (!challenge) throw new Error(`the CA offers none of the challenges ${site.challenges.join(', ')} for ${name}`)
    const keyAuthorization = await client.getChallengeKeyAuthorization(challenge)
    const target = authz.identifier.value
    const withdraw = await present(acme, challenge.type as ChallengeType, target, {
      site,
      board: deps.board,
      token: (challenge as { token: string }).token,
      keyAuthorization,
      authz,
    })
    try {
      await client.completeChallenge(challenge)
      await client.waitForValidStatus(challenge)
    } finally {
      await withdraw().catch(() => {})
    }
  }
  const key = newKey()
  const [, csr] = await acme.crypto.createCsr(
    { commonName: name.length <= 64 ? name : undefined, altNames: [name] },
    key,
  )
  const finalized = await client.finalizeOrder(order, csr)
  const cert = await client.getCertificate(finalized)
  return { cert, key }
}

/** Makes requests to the site's directory also trust its `directory_ca`, once per origin. */
function trustDirectoryCa(site: AcmeConfig): void {
  if (site.directory_ca && !agents.has(new URL(site.directory).origin)) {
    const ca = [...lazyBuiltin('node:tls').rootCertificates, readFileSync(site.directory_ca, 'utf8')]
    agents.set(new URL(site.directory).origin, new (lazyBuiltin('node:https').Agent)({ ca, keepAlive: true }))
  }
}

/** A client of the site's CA with the account registered (its key made and stored on first use). */
async function registeredClient(acme: AcmeClient, site: AcmeConfig, store: AcmeStore) {
  // Made and stored before any await, so that names obtained at once all use one account.
  let account = store.account()
  if (!account) {
    account = { key: newKey(), url: undefined }
    store.saveAccount(account)
  }
  const client = new acme.Client({
    directoryUrl: site.directory,
    accountKey: account.key,
    backoffAttempts: 12,
    backoffMin: 500,
    backoffMax: 8000,
  })
  await client.createAccount({
    termsOfServiceAgreed: true,
    contact: site.email ? [`mailto:${site.email}`] : undefined,
  })
  if (account.url !== client.getAccountUrl()) store.saveAccount({ key: account.key, url: client.getAccountUrl() })
  return client
}

interface Presenting {
  readonly site: AcmeConfig
  readonly board: ChallengeBoard
  readonly token: string
  readonly keyAuthorization: string
  readonly authz: Parameters<AcmeClient['crypto']['createAlpnCertificate']>[0]
}

/** Puts a challenge's answer where the CA will look; returns what takes it away again. */
async function present(
  acme: AcmeClient,
  type: ChallengeType,
  name: string,
  p: Presenting,
): Promise<() => Promise<void>> {
  if (type === 'dns-01') {
    const provider: DnsProvider = execProvider(p.site.dns!.exec)
    const fqdn = `_acme-challenge.${name}.`
    await provider.present(fqdn, p.keyAuthorization)
    return () => provider.cleanup(fqdn, p.keyAuthorization)
  }
  if (type === 'tls-alpn-01') {
    const [key, cert] = await acme.crypto.createAlpnCertificate(p.authz, p.keyAuthorization, newKey())
    await p.board.publish(name, {
      token: p.token,
      keyAuthorization: p.keyAuthorization,
      alpn: { cert: cert.toString(), key: key.toString() },
    })
  } else await p.board.publish(name, { token: p.token, keyAuthorization: p.keyAuthorization })
  return async () => p.board.withdraw(name)
}

function newKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string
}

function rotate<T>(list: readonly T[], by: number): T[] {
  const n = by % list.length
  return [...list.slice(n), ...list.slice(0, n)]
}
