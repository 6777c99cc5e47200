import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { get } from 'node:https'
import { type AddressInfo, connect, createServer } from 'node:net'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { TestCa } from './certs.ts'

/** A Pebble ACME CA and its DNS server (pebble-challtestsrv), started for one test. */
export interface Pebble {
  /** The ACME directory URL. */
  readonly directory: string
  /** PEM file that Pebble's own HTTPS certificate chains to: the `directory_ca` to give Portico. */
  readonly directoryCa: string
  /** The management URL of the DNS server, whose `/set-txt` and `/clear-txt` set DNS-01 records. */
  readonly dnsManagement: string
  /** The root that Pebble's certificates chain to, for the test client alone to trust. */
  root(): Promise<string>
  /** Stops Pebble (its DNS server stays): the CA is unreachable from then on. */
  stop(): Promise<void>
}

/**
 * Starts Pebble on free loopback ports, validating HTTP-01 on `httpPort` and TLS-ALPN-01 on
 * `tlsPort` (Portico's listeners) and resolving every name to 127.0.0.1 through its own DNS
 * server. Challenges are really checked (no PEBBLE_VA_ALWAYS_VALID), without Pebble's random
 * sleeps, and valid authorizations are never reused, so each order is validated afresh.
 */
export async function startPebble(t: TestContext, ports: { httpPort: number; tlsPort: number }): Promise<Pebble> {
  const ca = new TestCa(t, 'Pebble Directory Test CA')
  const own = ca.issue('localhost', ['localhost', '127.0.0.1'], 'pebble')
  const [acme, management, dns, dnsManagement] = await freeAddresses(4)
  const challtestsrv = run(t, 'pebble-challtestsrv', [
    '-dns01',
    dns!,
    '-management',
    dnsManagement!,
    '-http01',
    '',
    '-https01',
    '',
    '-tlsalpn01',
    '',
    '-defaultIPv4',
    '127.0.0.1',
    '-defaultIPv6',
    '',
  ])
  await listening(challtestsrv, dnsManagement!)
  const config = join(ca.dir, 'pebble-config.json')
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: acme,
        managementListenAddress: management,
        certificate: own.cert,
        privateKey: own.key,
        httpPort: ports.httpPort,
        tlsPort: ports.tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  )
  const pebble = run(t, 'pebble', ['-config', config, '-dnsserver', dns!], {
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_WFE_NONCEREJECT: '0',
    PEBBLE_AUTHZREUSE: '0',
  })
  await listening(pebble, acme!)
  await listening(pebble, management!)
  const trusted = readFileSync(ca.cert)
  return {
    directory: `https://${acme}/dir`,
    directoryCa: ca.cert,
    dnsManagement: `http://${dnsManagement}`,
    root: () =>
      new Promise((resolve, reject) => {
        get(`https://${management}/roots/0`, { ca: trusted }, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => (body += chunk))
          res.on('end', () => resolve(body))
        }).on('error', reject)
      }),
    async stop() {
      if (pebble.exitCode !== null) return
      pebble.kill('SIGKILL')
      await once(pebble, 'exit')
    },
  }
}

/**
 * `count` different loopback `host:port` addresses that nothing listens on: all bound at once, then
 * released, so that no two are the same.
 */
export async function freeAddresses(count: number): Promise<string[]> {
  const servers = Array.from({ length: count }, () => createServer().listen(0, '127.0.0.1'))
  await Promise.all(servers.map((s) => once(s, 'listening')))
  const addresses = servers.map((s) => `127.0.0.1:${(s.address() as AddressInfo).port}`)
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return addresses
}

function run(t: TestContext, program: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(program, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  Object.assign(child, { output: () => output })
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return child
}

/** Resolves once `address` accepts connections; rejects if `child` exits first or after 20 s. */
async function listening(child: ChildProcess, address: string): Promise<void> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))]
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, host, () => {
        socket.destroy()
        resolve(true)
      })
      socket.on('error', () => resolve(false))
    })
    if (ok) return
    // Polling stands in for a readiness event here: neither program says when it listens.
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const output = (child as ChildProcess & { output(): string }).output()
  throw new Error(`${child.spawnfile} did not listen on ${address}:\n${output}`)
}
