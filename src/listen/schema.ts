import { z } from 'zod'
import { address } from '../config/common.ts'

/** One listener: where Portico accepts client connections. */
export const listenerSchema = z
  .strictObject({
    address: address.describe('host:port to accept client connections on, e.g. "127.0.0.1:8080" or "[::]:80".'),
    proxy_protocol: z
      .boolean()
      .default(false)
      .describe(
        'Every connection starts with a PROXY protocol v1 or v2 header (from a load balancer); its client address is believed only from trusted_proxies. Default false.',
      ),
  })
  .describe('A listening address for client traffic.')
