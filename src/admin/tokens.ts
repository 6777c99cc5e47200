import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { AdminConfig } from '../config/admin-schema.ts'

/** Shortest token accepted: shorter ones are guessable. */
export const minTokenLength = 16

/** The admin tokens, by name: who presented a bearer token, compared in constant time. */
export interface Tokens {
  /** Whether any token is set; with none, every caller is let in (loopback only). */
  readonly required: boolean
  /** The name of the token in an `Authorization` header, or undefined when it matches none. */
  holder(authorization: string | undefined): string | undefined
}

/**
 * Reads each token from its environment variable or file, once, at start. Throws naming the token
 * whose value is missing or too short, so that Portico refuses to start rather than run unguarded.
 */
export function loadTokens(config: AdminConfig, env: NodeJS.ProcessEnv = process.env): Tokens {
  const digests = config.tokens.map((t) => {
    const value = (t.env !== undefined ? env[t.env] : readFileSync(t.file!, 'utf8'))?.trim() ?? ''
    if (value.length < minTokenLength) {
      const source = t.env !== undefined ? `environment variable ${t.env}` : `file ${t.file}`
      throw new Error(`admin token "${t.name}": ${source} must hold at least ${minTokenLength} characters`)
    }
    return { name: t.name, digest: digest(value) }
  })
  return {
    required: digests.length > 0,
    holder(authorization) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
      if (!m) return undefined
      // Digests of equal length, compared whole against every token: the time taken says nothing of the token.
      const seen = digest(m[1]!)
      let holder: string | undefined
      for (const t of digests) if (timingSafeEqual(seen, t.digest) && holder === undefined) holder = t.name
      return holder
    },
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
