import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { type CountryResponse, Reader } from 'maxmind'

/** Looks up the country of an address. */
export interface CountryDb {
  /** The ISO 3166 code (upper case) of `ip`'s country, or "" when unknown (private ranges, no entry, not an IP). */
  country(ip: string): string
}

/** The embedded default: CC0 data, so country routing works with no download. */
export const embeddedDatabase = createRequire(import.meta.url).resolve(
  '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb',
)

// Readers outlive Plans: a reload that keeps the database does not read the file again.
const opened = new Map<string, CountryDb>()

interface Entry {
  /** ip-location-db databases. */
  readonly country_code?: string
  /** GeoLite2 / GeoIP2 Country. */
  readonly country?: { readonly iso_code?: string }
  readonly registered_country?: { readonly iso_code?: string }
}

/** Opens a MaxMind-format country database (the embedded one by default), once per file per process. */
export function openCountryDb(file: string = embeddedDatabase): CountryDb {
  let db = opened.get(file)
  if (db) return db
  const reader = new Reader<CountryResponse>(readFileSync(file))
  db = {
    country(ip) {
      let r: Entry | null
      try {
        r = reader.get(ip) as Entry | null
      } catch {
        return ''
      }
      return (r?.country_code ?? r?.country?.iso_code ?? r?.registered_country?.iso_code ?? '').toUpperCase()
    },
  }
  opened.set(file, db)
  return db
}
