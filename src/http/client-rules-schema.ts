import { z } from 'zod'
import { cidr } from '../values/common.ts'

const country = z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166 country code in upper case such as "DE"')
const entry = z
  .union([cidr, country])
  .describe('An IP address, a CIDR ("10.0.0.0/8", "2001:db8::/32") or a country code ("DE").')

/** Allow and deny lists of client addresses, ranges and countries. */
export const clientRulesSchema = z
  .strictObject({
    allow: z
      .array(entry)
      .optional()
      .describe(
        'Only clients in one of these addresses, CIDRs or countries get through. IPv4-mapped IPv6 clients count as their IPv4 address. Default: every client.',
      ),
    deny: z
      .array(entry)
      .optional()
      .describe(
        'Clients in one of these addresses, CIDRs or countries are refused, even when `allow` lists them. Default: none.',
      ),
  })
  .describe(
    'Which clients may come in, by address and by country (from the geo database). Lists of 100,000 entries cost a lookup about what ten do.',
  )

export type ClientRulesConfig = z.output<typeof clientRulesSchema>
