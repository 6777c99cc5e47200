import { isIP } from 'node:net'
import { z } from 'zod'
import { pemFile } from '../tls/schema.ts'
import { splitAddress } from '../values/address.ts'
import { address, existingPath } from '../values/common.ts'
import { duration } from '../values/units.ts'

const token = z
  .strictObject({
    name: z
      .string()
      .regex(/^[\w.@-]+$/, 'expected a name of letters, digits, "_", ".", "@" or "-"')
      .describe('Who holds this token: every change made with it is logged under this name.'),
    env: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name such as "PORTICO_ADMIN_TOKEN"')
      .optional()
      .describe('The environment variable that holds the token (at least 16 characters). Never logged.'),
    file: existingPath('file', 'an existing file with the token')
      .optional()
      .describe('A file that holds the token (at least 16 characters; surrounding white space is ignored).'),
  })
  .refine((t) => (t.env === undefined) !== (t.file === undefined), {
    message: 'give either env or file',
    path: ['env'],
  })
  .describe('A bearer token the admin API accepts, and the name changes made with it are logged under.')

const adminTls = z
  .strictObject({
    cert: pemFile('PEM file with the admin listener certificate, then its intermediates.'),
    key: pemFile('PEM file with its private key.'),
    client_ca: pemFile(
      'PEM file with the CA certificates that client certificates must chain to; when set, a client without a valid certificate is refused at the handshake.',
    ).optional(),
  })
  .describe('HTTPS on the admin listener, optionally with client certificates.')

/** The top-level `admin` block: the admin API listener. Absent, there is none. */
export const adminSchema = z
  .strictObject({
    address: address
      .default('127.0.0.1:9901')
      .describe(
        'Where the admin API listens, "host:port". Default "127.0.0.1:9901". Any address other than a loopback one needs `tokens`.',
      ),
    tokens: z
      .array(token)
      .default([])
      .describe(
        'Bearer tokens (`Authorization: Bearer …`). With none, only a loopback address is allowed and anyone who can reach it may read and change. Default none.',
      ),
    tls: adminTls.optional(),
    watch_config: z
      .boolean()
      .default(false)
      .describe('Reload when the config file changes (debounced by `watch_debounce`), as on SIGHUP. Default false.'),
    watch_debounce: duration(
      'How long the config file must stay unchanged before a watched change is reloaded. Default "300ms".',
    ).prefault('300ms'),
  })
  .refine((a) => a.tokens.length > 0 || isLoopback(a.address), {
    message: 'an admin listener on an address other than loopback needs at least one token',
    path: ['tokens'],
  })
  .describe(
    'The admin API (docs/admin.md): live state, drain, enable, weight, reload, validate. Off unless this block is set.',
  )

/** Whether a `host:port` address is on the loopback interface only. */
export function isLoopback(text: string): boolean {
  const host = splitAddress(text)?.host
  if (host === undefined) return false
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}

export type AdminConfig = z.output<typeof adminSchema>
