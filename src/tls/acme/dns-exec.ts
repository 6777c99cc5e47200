import { execFile } from 'node:child_process'
import type { AcmeConfig } from './schema.ts'

/** Sets and removes the TXT records of DNS-01 challenges (RFC 8555 §8.4). */
export interface DnsProvider {
  /** Makes `fqdn` ("_acme-challenge.example.com.") hold a TXT record `value`; resolves once it does. */
  present(fqdn: string, value: string): Promise<void>
  /** Removes that record again. */
  cleanup(fqdn: string, value: string): Promise<void>
}

type ExecConfig = NonNullable<AcmeConfig['dns']>['exec']

/**
 * The `exec` provider: runs the configured command with `present <fqdn> <value>` or
 * `cleanup <fqdn> <value>` appended (lego's convention), and takes exit status 0 as done. A run that
 * fails or outlives `timeout` rejects with the command's standard error. After `present`, waits
 * `propagation` for the record to reach every DNS server.
 */
export function execProvider(config: ExecConfig): DnsProvider {
  const [program, ...args] = config.command as [string, ...string[]]
  const run = (action: string, fqdn: string, value: string) =>
    new Promise<void>((resolve, reject) => {
      execFile(program, [...args, action, fqdn, value], { timeout: config.timeout }, (err, _stdout, stderr) => {
        if (!err) return resolve()
        const why = stderr.trim() || err.message
        reject(new Error(`dns exec ${action} failed: ${why.slice(0, 500)}`))
      })
    })
  return {
    async present(fqdn, value) {
      await run('present', fqdn, value)
      if (config.propagation > 0) await new Promise((resolve) => setTimeout(resolve, config.propagation))
    },
    cleanup: (fqdn, value) => run('cleanup', fqdn, value),
  }
}
