/** Keys whose values are secrets wherever they appear in the config. */
const secretKeys = /^(value|secret|password|token|key_value)$/i

/**
 * A copy of `config` fit to show: secret values replaced by `"***"` (the `secret` block, a sticky
 * cookie's secret, passwords), and the password part of any `scheme://user:password@` URL.
 */
export function masked(config: unknown, inSecret = false): unknown {
  if (typeof config === 'string') return config.replace(/^(\w+:\/\/[^:/@]*:)[^@]*@/, '$1***@')
  if (Array.isArray(config)) return config.map((v) => masked(v, inSecret))
  if (config === null || typeof config !== 'object') return config
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(config)) {
    if (value !== undefined && typeof value !== 'object' && (secretKeys.test(key) || (inSecret && key !== 'file')))
      out[key] = '***'
    else out[key] = masked(value, inSecret || key === 'secret')
  }
  return out
}
