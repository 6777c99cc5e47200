import { statSync } from 'node:fs'
import { isIP } from 'node:net'
import { z } from 'zod'
import { splitAddress } from './address.ts'

/** `host:port` or `[v6]:port` with a port from 0 to 65535. */
export const address = z.string().check((ctx) => {
  if (splitAddress(ctx.value) === undefined) {
    ctx.issues.push({
      code: 'custom',
      input: ctx.value,
      message: `expected host:port such as "127.0.0.1:8080" or "[::1]:8080", found "${ctx.value}"`,
    })
  }
})

/** An IPv4 or IPv6 address, alone or with a `/prefix`. */
export const cidr = z.string().check((ctx) => {
  const [ip, bits, extra] = ctx.value.split('/')
  const family = isIP(ip ?? '')
  const max = family === 4 ? 32 : 128
  const ok =
    family !== 0 && extra === undefined && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max))
  if (!ok) {
    ctx.issues.push({
      code: 'custom',
      input: ctx.value,
      message: `expected an IP address or CIDR such as "10.0.0.0/8" or "::1", found "${ctx.value}"`,
    })
  }
})

/**
 * A path that names an existing file or directory, checked when the config loads. `what` is what
 * the error says was expected, by default "an existing file" or "an existing directory".
 */
export function existingPath(kind: 'file' | 'directory', what = `an existing ${kind}`) {
  return z.string().check((ctx) => {
    let ok = false
    try {
      const stat = statSync(ctx.value)
      ok = kind === 'file' ? stat.isFile() : stat.isDirectory()
    } catch {}
    if (!ok) ctx.issues.push({ code: 'custom', input: ctx.value, message: `expected ${what}, found "${ctx.value}"` })
  })
}

/** What a pool name may be: letters, digits, `_`, `.` and `-`. */
export const poolName = /^[\w.-]+$/
