import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Config } from '../config/schema.ts'
import type { CertificateStatus } from '../tls/acme/status.ts'
import { AcmeStore, defaultStorage } from '../tls/acme/store.ts'

/** A listener certificate as the API shows it. */
export interface CertificateView {
  readonly listener: string
  readonly file: string
  /** The DNS names and IP addresses it is valid for (its subject alternative names). */
  readonly names: readonly string[]
  readonly not_after: string
  readonly days_left: number
  /** Why the file could not be read, when it could not. */
  readonly error?: string
}

/** The certificates of every TLS listener in `config`, read from their files now. */
export function certificates(config: Config, now = Date.now()): CertificateView[] {
  const out: CertificateView[] = []
  for (const l of config.listeners) {
    for (const c of l.tls?.certificates ?? []) {
      try {
        const x509 = new X509Certificate(readFileSync(c.cert))
        const names = (x509.subjectAltName ?? '')
          .split(', ')
          .filter((n) => n !== '')
          .map((n) => n.replace(/^(DNS|IP Address):/, ''))
        const notAfter = new Date(x509.validTo)
        out.push({
          listener: l.address,
          file: c.cert,
          names,
          not_after: notAfter.toISOString(),
          days_left: Math.floor((notAfter.getTime() - now) / 86_400_000),
        })
      } catch (err) {
        out.push({
          listener: l.address,
          file: c.cert,
          names: [],
          not_after: '',
          days_left: 0,
          error: (err as Error).message,
        })
      }
    }
  }
  return out
}

/**
 * The certificates ACME obtained, as the API shows them, from their `statuses`: each under the TLS
 * listener whose `acme` block lists its name (else the first with `on_demand`), with the file it is
 * stored in, and the last failure as `error` (the certificate shown is still served then), by name.
 */
export function acmeCertificates(
  config: Config,
  statuses: readonly CertificateStatus[],
  now = Date.now(),
): CertificateView[] {
  const blocks = config.listeners.flatMap((l) => (l.tls?.acme ? [{ address: l.address, acme: l.tls.acme }] : []))
  return [...statuses]
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((s) => {
      const owner = blocks.find((b) => b.acme.hosts.includes(s.name)) ?? blocks.find((b) => b.acme.on_demand)
      if (!owner) return []
      const notAfter = s.notAfter ? Date.parse(s.notAfter) : undefined
      const store = new AcmeStore(owner.acme.storage ?? defaultStorage(), owner.acme.directory)
      return [
        {
          listener: owner.address,
          file: store.certificatePath(s.name),
          names: [s.name],
          not_after: s.notAfter ?? '',
          days_left: notAfter === undefined ? 0 : Math.floor((notAfter - now) / 86_400_000),
          ...(s.lastError === undefined ? {} : { error: s.lastError }),
        },
      ]
    })
}
