import { z } from 'zod'
import { cidr } from '../values/common.ts'
import { readClientListFile } from './client-list-file.ts'

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
    allow_files: z
      .array(z.string())
      .optional()
      .describe(
        'Files adding to `allow`: one address, CIDR or country code per line; `#` starts a comment. Read when the config loads and on every reload; a line that is none of these fails the config, naming the file and line.',
      ),
    deny_files: z
      .array(z.string())
      .optional()
      .describe(
        'Files adding to `deny`, as `allow_files` (e.g. a blocklist of 100,000 CIDRs; it loads in well under a second).',
      ),
  })
  .transform((rules, ctx) => {
    // The files' entries join the inline lists: what runs is only ever `allow` and `deny`.
    const out: { allow?: string[]; deny?: string[] } = {}
    for (const side of ['allow', 'deny'] as const) {
      const files = rules[`${side}_files`]
      let entries = rules[side]
      files?.forEach((file, i) => {
        const read = readClientListFile(file)
        if ('error' in read) ctx.addIssue({ code: 'custom', path: [`${side}_files`, i], message: read.error })
        else entries = [...(entries ?? []), ...read.entries]
      })
      if (entries !== undefined) out[side] = entries
    }
    return out
  })
  .describe(
    'Which clients may come in, by address and by country (from the geo database). Lists of 100,000 entries cost a lookup about what ten do.',
  )

export type ClientRulesConfig = z.output<typeof clientRulesSchema>
