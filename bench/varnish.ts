import { join } from 'node:path'
import type { Setup } from './contenders.ts'
import { freePort, installed, type Started, start } from './spawn.ts'

/**
 * Varnish (Debian's `varnish`) in front of the HTTP origin, for the cache-hit scenarios: the
 * default VCL (it caches what the origin allows), responses in memory (`malloc`), one thread
 * pool, its working files under the run's directory, in the foreground without a jail or a
 * management port. The CPU of its manager and its cache process are both counted.
 */
export async function varnish(s: Setup): Promise<Started> {
  const port = await freePort()
  const args = [
    '-F',
    '-j',
    'none',
    '-T',
    'none',
    '-n',
    join(s.dir, 'varnish'),
    '-a',
    `127.0.0.1:${port}`,
    '-b',
    s.origin,
    '-s',
    'malloc,256m',
    '-p',
    'thread_pools=1',
  ]
  return start(s.cpus, installed('varnishd')!, args, port)
}
