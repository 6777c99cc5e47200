import { createPrivateKey, X509Certificate } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** A certificate obtained from a CA: its chain and key (PEM), and the facts read from its leaf. */
export interface StoredCertificate {
  readonly name: string
  readonly cert: string
  readonly key: string
  readonly issuer: string
  readonly notBefore: number
  readonly notAfter: number
  /** SHA-256 fingerprint of the leaf: tells one version of a name's certificate from the next. */
  readonly fingerprint: string
}

/** The ACME account at one CA: its key (PEM) and, once registered, its URL. */
export interface StoredAccount {
  readonly key: string
  readonly url: string | undefined
}

/** The default storage directory: $XDG_DATA_HOME/portico/acme, else ~/.local/share/portico/acme. */
export function defaultStorage(): string {
  return join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'portico', 'acme')
}

/**
 * Accounts and certificates on disk, one folder per CA (named after its directory URL), so that a
 * restart serves what it has without asking the CA. Every file is written whole (to a temporary name,
 * then renamed), so a reader never sees half of one; keys are 0600, folders 0700.
 */
export class AcmeStore {
  readonly #dir: string

  constructor(storage: string, directory: string) {
    this.#dir = join(storage, folderName(directory))
  }

  /** The account at this CA, or undefined when none was made yet. */
  account(): StoredAccount | undefined {
    const key = readOrUndefined(join(this.#dir, 'account.key'))
    if (key === undefined) return undefined
    const meta = readOrUndefined(join(this.#dir, 'account.json'))
    return { key, url: meta ? (JSON.parse(meta) as { url?: string }).url : undefined }
  }

  saveAccount(account: StoredAccount): void {
    writeWhole(join(this.#dir, 'account.key'), account.key, 0o600)
    writeWhole(join(this.#dir, 'account.json'), `${JSON.stringify({ url: account.url })}\n`, 0o644)
  }

  /** The stored certificate of `name`, or undefined when there is none or it cannot be read. */
  certificate(name: string): StoredCertificate | undefined {
    const folder = this.#certFolder(name)
    const cert = readOrUndefined(join(folder, 'cert.pem'))
    const key = readOrUndefined(join(folder, 'key.pem'))
    if (cert === undefined || key === undefined) return undefined
    try {
      return describe(name, cert, key)
    } catch {
      return undefined
    }
  }

  /** Stores a new certificate of `name` (key first: the certificate is what makes a pair complete). */
  saveCertificate(name: string, cert: string, key: string): StoredCertificate {
    const stored = describe(name, cert, key)
    const folder = this.#certFolder(name)
    writeWhole(join(folder, 'key.pem'), key, 0o600)
    writeWhole(join(folder, 'cert.pem'), cert, 0o644)
    return stored
  }

  /** Where the certificate of `name` is (or would be) stored. */
  certificatePath(name: string): string {
    return join(this.#certFolder(name), 'cert.pem')
  }

  #certFolder(name: string): string {
    return join(this.#dir, 'certificates', name.replace(/^\*\./, 'wildcard_.'))
  }
}

/** Reads the leaf of a PEM chain. Throws when it is not a certificate or the key does not match. */
export function describe(name: string, cert: string, key: string): StoredCertificate {
  const leaf = new X509Certificate(cert)
  if (!leaf.checkPrivateKey(createPrivateKey(key)))
    throw new Error(`the stored key of ${name} does not match its certificate`)
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(leaf.issuer)
  return {
    name,
    cert,
    key,
    issuer: cn?.[1] ?? leaf.issuer,
    notBefore: Date.parse(leaf.validFrom),
    notAfter: Date.parse(leaf.validTo),
    fingerprint: leaf.fingerprint256,
  }
}

function folderName(directory: string): string {
  const url = new URL(directory)
  return `${url.host}${url.pathname}`.replace(/[^a-z0-9.-]+/gi, '-').replace(/-+$/, '')
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

function writeWhole(file: string, text: string, mode: number): void {
  const folder = join(file, '..')
  mkdirSync(folder, { recursive: true, mode: 0o700 })
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, text, { mode })
  // The mode given at creation is masked by the umask; the key must be 0600 whatever it is.
  chmodSync(temporary, mode)
  renameSync(temporary, file)
}
