import { once } from 'node:events'
import { type AddressInfo, createServer } from 'node:net'
import type { Config } from '../config/schema.ts'
import { splitAddress } from '../values/address.ts'

/**
 * Checks that every listener address is free by binding it once without `SO_REUSEPORT`, and
 * returns `config` with each port 0 replaced by the port the system chose, so that all workers
 * bind the same one. Rejects, like a listener would, when an address is in use: a second Portico
 * on the same port fails to start instead of silently sharing the traffic.
 */
export async function resolvePorts(config: Config): Promise<Config> {
  const listeners = []
  for (const listener of config.listeners) {
    const { host, port } = splitAddress(listener.address)!
    const probe = createServer()
    probe.listen({ host, port, exclusive: true })
    await Promise.race([once(probe, 'listening'), once(probe, 'error').then(([err]) => Promise.reject(err))])
    const bound = (probe.address() as AddressInfo).port
    await new Promise((resolve) => probe.close(resolve))
    listeners.push({ ...listener, address: `${host.includes(':') ? `[${host}]` : host}:${bound}` })
  }
  return { ...config, listeners }
}
