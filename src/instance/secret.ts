import { hkdfSync, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { SecretConfig } from './schema.ts'

// Shorter keys are guessable offline from a captured cookie or ticket; 32 characters of base64 is 192 bits.
/** The shortest key accepted, in characters. */
export const minSecretLength = 32

/** What a file or the config holds, or 32 random bytes when neither gives a key. Throws when the file cannot be read. */
export function loadSecret(config: SecretConfig | undefined): Buffer {
  if (config?.value !== undefined) return Buffer.from(config.value.trim())
  if (config?.file !== undefined) {
    const key = readFileSync(config.file, 'utf8').trim()
    if (key.length < minSecretLength)
      throw new Error(`${config.file}: expected a key of at least ${minSecretLength} characters`)
    return Buffer.from(key)
  }
  return randomBytes(32)
}

/**
 * A key of `bytes` bytes for one `purpose`, derived from `secret` by HKDF-SHA256 (RFC 5869): the
 * same in every process given the same secret, and telling nothing about the secret or the keys of
 * other purposes.
 */
export function deriveKey(secret: Buffer, purpose: string, bytes: number): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'portico', purpose, bytes))
}
