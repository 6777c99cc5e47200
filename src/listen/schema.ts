import { z } from 'zod'
import { address } from '../config/common.ts'

/** One listener: where Portico accepts client connections. */
export const listenerSchema = z
  .strictObject({
    address: address.describe('host:port to accept client connections on, e.g. "127.0.0.1:8080" or "[::]:80".'),
  })
  .describe('A listening address for client traffic.')
