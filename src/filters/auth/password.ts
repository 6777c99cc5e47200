import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/**
 * Password hashes as the config holds them. scrypt hashes are Portico's own (`portico
 * hash-password`), in the PHC string form `$scrypt$ln=15,r=8,p=1$<salt>$<key>` (salt and key in
 * unpadded base64); bcrypt hashes (`$2a$`, `$2b$`, `$2y$`, as htpasswd -B writes them) are read too.
 */
export type StoredHash =
  | {
      readonly kind: 'scrypt'
      readonly ln: number
      readonly r: number
      readonly p: number
      readonly salt: Buffer
      readonly key: Buffer
    }
  | { readonly kind: 'bcrypt'; readonly text: string }

/** Cost of new scrypt hashes: N = 2^15, r = 8 (32 MiB, tens of milliseconds per check). */
const defaults = { ln: 15, r: 8, p: 1 } as const

const scryptPattern = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/
const bcryptPattern = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/

/**
 * Reads a stored hash; returns a sentence saying what is wrong when it is not one Portico can check.
 * Costs are bounded so that a config cannot make one check take seconds or gigabytes.
 */
export function parseStoredHash(text: string): StoredHash | string {
  const s = scryptPattern.exec(text)
  if (s) {
    const [ln, r, p] = [Number(s[1]), Number(s[2]), Number(s[3])]
    if (ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 16)
      return 'scrypt cost out of range (ln 10..20, r 1..32, p 1..16)'
    const key = Buffer.from(s[5]!, 'base64')
    if (key.length < 16) return 'scrypt key shorter than 16 bytes'
    return { kind: 'scrypt', ln, r, p, salt: Buffer.from(s[4]!, 'base64'), key }
  }
  const b = bcryptPattern.exec(text)
  if (b) {
    const cost = Number(b[1])
    if (cost < 4 || cost > 16) return 'bcrypt cost out of range (4..16)'
    return { kind: 'bcrypt', text }
  }
  return 'expected a password hash from `portico hash-password` ($scrypt$…) or a bcrypt hash ($2b$…)'
}

/** Hashes `password` with scrypt and a fresh 16-byte salt, in the form parseStoredHash reads. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, { kind: 'scrypt', ...defaults, salt, key: Buffer.alloc(32) })
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '')
  return `$scrypt$ln=${defaults.ln},r=${defaults.r},p=${defaults.p}$${b64(salt)}$${b64(key)}`
}

/**
 * Whether `password` matches `stored`. Runs off the event loop (scrypt in libuv's thread pool;
 * bcrypt in slices), and compares in constant time: how long it takes tells nothing of how much of
 * the password was right.
 */
export async function verifyPassword(password: string, stored: StoredHash): Promise<boolean> {
  if (!(await turn())) return false
  try {
    if (stored.kind === 'bcrypt') {
      const { compare } = await import('bcryptjs')
      return await compare(password, stored.text)
    }
    const key = await derive(password, stored)
    return timingSafeEqual(key, stored.key)
  } finally {
    next()
  }
}

/**
 * Checks under way at once in this process. A check holds one of libuv's four threads and 32 MiB for
 * tens of milliseconds: a flood of wrong passwords must not starve file reads, compression and DNS.
 */
const maxChecks = 2
/** Checks waiting for a turn; a flood beyond this is refused at once, as wrong passwords. */
const maxWaiting = 1000
let checking = 0
const waiting: ((go: boolean) => void)[] = []

function turn(): Promise<boolean> | boolean {
  if (checking < maxChecks) {
    checking++
    return true
  }
  if (waiting.length >= maxWaiting) return false
  return new Promise((resolve) => waiting.push(resolve))
}

function next(): void {
  const waiter = waiting.shift()
  if (waiter) waiter(true)
  else checking--
}

function derive(password: string, h: Extract<StoredHash, { kind: 'scrypt' }>): Promise<Buffer> {
  const N = 2 ** h.ln
  return new Promise((resolve, reject) => {
    // scrypt needs 128 · N · r bytes; node refuses anything over maxmem (32 MiB by default).
    scrypt(password, h.salt, h.key.length, { N, r: h.r, p: h.p, maxmem: 256 * N * h.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    )
  })
}
