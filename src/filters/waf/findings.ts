import type { Finding } from './engine.ts'

/** Variables whose values are secrets: only their first bytes reach the log. */
const secret = /^(?:REQUEST_COOKIES:|REQUEST_HEADERS:(?:authorization|proxy-authorization|cookie|x-api-key)$)/i

/**
 * Formats what the rules found for the access log: `id VARIABLE "fragment"`, separated by `; `,
 * fragments cut to 40 bytes, and cookie or authorization values cut to 4 so none is logged whole.
 */
export function formatFindings(findings: readonly Finding[], limit = 10): string {
  const out: string[] = []
  for (const f of findings.slice(0, limit)) {
    const max = secret.test(f.variable) ? 4 : 40
    const fragment = f.fragment.length > max ? `${f.fragment.slice(0, max)}…` : f.fragment
    out.push(`${f.id} ${f.variable} ${JSON.stringify(fragment)}`)
  }
  if (findings.length > limit) out.push(`+${findings.length - limit} more`)
  return out.join('; ')
}
