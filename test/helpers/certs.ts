import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

/** PEM files of a certificate and its key. */
export interface Pem {
  readonly cert: string
  readonly key: string
}

/**
 * A throwaway certificate authority in a temporary directory removed when the test ends. It issues
 * server and client certificates with `openssl`; none of these keys protect anything.
 */
export class TestCa implements Pem {
  readonly dir: string
  readonly cert: string
  readonly key: string
  #serial = 1

  constructor(t: TestContext, name = 'Portico Test CA') {
    this.dir = mkdtempSync(join(tmpdir(), 'portico-certs-'))
    t.after(() => rmSync(this.dir, { recursive: true, force: true }))
    this.cert = join(this.dir, 'ca.pem')
    this.key = join(this.dir, 'ca.key')
    openssl([
      'req',
      '-x509',
      ...newKey(this.key),
      '-out',
      this.cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ])
  }

  /**
   * Issues a certificate with common name `cn` for `names` (DNS names; none for a client
   * certificate), written as `file.pem` and `file.key` (`file` defaults to `cn`).
   */
  issue(cn: string, names: readonly string[] = [], file = cn): Pem {
    const cert = join(this.dir, `${file}.pem`)
    const key = join(this.dir, `${file}.key`)
    const csr = join(this.dir, `${file}.csr`)
    const ext = join(this.dir, `${file}.ext`)
    const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')
    writeFileSync(ext, `${san ? `subjectAltName=${san}\n` : ''}extendedKeyUsage=serverAuth,clientAuth\n`)
    openssl(['req', ...newKey(key), '-out', csr, '-subj', `/O=Portico Tests/CN=${cn}`])
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      this.cert,
      '-CAkey',
      this.key,
      '-set_serial',
      String(this.#serial++),
      '-out',
      cert,
      '-days',
      '2',
      '-extfile',
      ext,
    ])
    return { cert, key }
  }
}

function newKey(keyFile: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile]
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}
