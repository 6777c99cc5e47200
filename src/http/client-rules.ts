import { AddressSet } from './cidr.ts'
import type { ClientRulesConfig } from './client-rules-schema.ts'

/** One side of the rules, compiled. */
interface Compiled {
  readonly addresses: AddressSet
  readonly countries: ReadonlySet<string>
}

function compile(entries: readonly string[] | undefined): Compiled | undefined {
  if (entries === undefined) return undefined
  const countries = entries.filter((e) => /^[A-Z]{2}$/.test(e))
  return { addresses: new AddressSet(entries.filter((e) => !/^[A-Z]{2}$/.test(e))), countries: new Set(countries) }
}

function holds(c: Compiled, ip: string, country: string): boolean {
  return c.addresses.has(ip) || (country !== '' && c.countries.has(country))
}

/** Compiled allow and deny lists; built once per Plan (or listener), asked once per request (or connection). */
export class ClientRules {
  readonly #allow: Compiled | undefined
  readonly #deny: Compiled | undefined
  /** Whether a country list is given: only then does the caller need to look the country up. */
  readonly needsCountry: boolean

  constructor(config: ClientRulesConfig) {
    this.#allow = compile(config.allow)
    this.#deny = compile(config.deny)
    this.needsCountry = (this.#allow?.countries.size ?? 0) + (this.#deny?.countries.size ?? 0) > 0
  }

  /** Whether the client at `ip`, in `country` ("" when unknown), may come in: not denied, and allowed when an allow list is given. */
  admits(ip: string, country: string): boolean {
    if (this.#deny && holds(this.#deny, ip, country)) return false
    return this.#allow === undefined || holds(this.#allow, ip, country)
  }
}

/** Whether `rules` name any country, so the geo database must be read. */
export function rulesUseCountry(rules: ClientRulesConfig | undefined): boolean {
  return [...(rules?.allow ?? []), ...(rules?.deny ?? [])].some((e) => /^[A-Z]{2}$/.test(e))
}
