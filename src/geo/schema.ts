import { z } from 'zod'
import { existingPath } from '../values/common.ts'

/** Where client countries come from. */
export const geoSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .optional()
      .describe(
        "Look up every client's country (for the access log too). Default: only when a route uses `match.country` or `{country}`, or `database` is set.",
      ),
    database: existingPath('file', 'an existing .mmdb file')
      .optional()
      .describe(
        'A MaxMind-format country database (.mmdb), e.g. GeoLite2-Country.mmdb. Default: the embedded CC0 geo-whois-asn-country database.',
      ),
  })
  .describe(
    'Client country lookup, for `match.country`, the `{country}` variable and the access log. The database is read only when `enabled` says so.',
  )

export type GeoConfig = z.output<typeof geoSchema>
