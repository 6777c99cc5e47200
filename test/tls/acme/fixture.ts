import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { connect as connectH2 } from 'node:http2'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { connect, type PeerCertificate } from 'node:tls'
import type { EventLog } from '../../../src/log/events.ts'
import { freeAddresses, type Pebble, startPebble } from '../../helpers/pebble.ts'
import { removeWhenDone } from '../../helpers/remove-dir.ts'

/** Two free loopback addresses for Portico (plain, TLS), a Pebble that validates on them, and a storage folder. */
export interface AcmeSetup {
  readonly plain: string
  readonly secure: string
  readonly pebble: Pebble
  readonly storage: string
  /** Pebble's root, which only the test client trusts. */
  readonly root: string
}

export async function acmeSetup(t: TestContext): Promise<AcmeSetup> {
  const [plain, secure] = (await freeAddresses(2)) as [string, string]
  const pebble = await startPebble(t, { httpPort: portOf(plain), tlsPort: portOf(secure) })
  const storage = mkdtempSync(join(tmpdir(), 'portico-acme-'))
  removeWhenDone(t, storage)
  return { plain, secure, pebble, storage, root: await pebble.root() }
}

/** Portico's listeners for `setup`: a plain one that redirects to HTTPS and a TLS one whose `acme` block is `acme`, with defaults for Pebble. */
export function acmeListeners(setup: AcmeSetup, acme: Record<string, unknown>) {
  return [
    // Everything but ACME's HTTP-01 validations is sent to HTTPS.
    { address: setup.plain, redirect_https: { port: portOf(setup.secure) } },
    {
      address: setup.secure,
      tls: {
        acme: {
          directory: setup.pebble.directory,
          directory_ca: setup.pebble.directoryCa,
          email: 'ops@example.com',
          storage: setup.storage,
          ...acme,
        },
      },
    },
  ]
}

export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1))
}

/** An event log that keeps what it is told and lets a test wait for a message. */
export function recordingEvents(): EventLog & {
  readonly lines: { level: string; message: string; details?: Record<string, unknown> }[]
  /** Resolves once `message` was told `count` times; rejects at an error first, unless `message` is one. */
  waitFor(message: string, count?: number): Promise<void>
} {
  const lines: { level: string; message: string; details?: Record<string, unknown> }[] = []
  const changed = new EventTarget()
  const add = (level: string) => (message: string, details?: Record<string, unknown>) => {
    lines.push({ level, message, details })
    changed.dispatchEvent(new Event('line'))
  }
  return {
    lines,
    info: add('info'),
    warn: add('warn'),
    error: add('error'),
    async waitFor(message, count = 1) {
      while (lines.filter((l) => l.message === message).length < count) {
        const error = lines.find((l) => l.level === 'error' && l.message !== message)
        if (error) throw new Error(`${error.message}: ${JSON.stringify(error.details)}`)
        await once(changed, 'line')
      }
    },
  }
}

/** The certificate a client trusting only `ca` is served for `servername`; rejects when the handshake fails. */
export async function servedCertificate(address: string, servername: string, ca: string): Promise<PeerCertificate> {
  const socket = connect({ host: '127.0.0.1', port: portOf(address), servername, ca })
  try {
    await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([e]) => Promise.reject(e))])
    return socket.getPeerCertificate()
  } finally {
    socket.destroy()
  }
}

/** GET `path` over HTTPS for `servername`, trusting only `ca`; resolves with the status and body. */
export function httpsGet(
  address: string,
  servername: string,
  ca: string,
  path = '/',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: portOf(address), servername, ca, path, headers: { host: servername }, agent: false },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** GET / over HTTP/2 for `servername`, trusting only `ca`; resolves with the status and body. */
export async function h2Get(
  address: string,
  servername: string,
  ca: string,
): Promise<{ status: number; body: string }> {
  const session = connectH2(`https://127.0.0.1:${portOf(address)}`, { ca, servername })
  try {
    const stream = session.request({ ':path': '/', ':authority': servername })
    const [headers] = (await once(stream, 'response')) as [Record<string, string | number>]
    let body = ''
    stream.setEncoding('utf8')
    for await (const chunk of stream) body += chunk
    return { status: Number(headers[':status']), body }
  } finally {
    session.close()
  }
}
