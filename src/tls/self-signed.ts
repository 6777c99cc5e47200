import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'

/** Where a generated certificate and its key were written. */
export interface CertificateFiles {
  readonly cert: string
  readonly key: string
}

/**
 * Writes a self-signed certificate for local use into `dir` (`cert.pem`, `key.pem`): an ECDSA P-256
 * key, valid `days` days, for the DNS names and IP addresses in `names` (the first is the subject).
 * Uses the `openssl` command, which every TLS-capable system has; throws when it is missing.
 */
export function selfSigned(
  dir: string,
  names: readonly string[] = ['localhost', '127.0.0.1', '::1'],
  days = 365,
): CertificateFiles {
  mkdirSync(dir, { recursive: true })
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(days),
      '-subj',
      `/CN=${names[0]}`,
      '-addext',
      `subjectAltName=${san}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  chmodSync(key, 0o600)
  return { cert, key }
}
