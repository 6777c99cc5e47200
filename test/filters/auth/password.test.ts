import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashPassword, parseStoredHash, type StoredHash, verifyPassword } from '../../../src/filters/auth/password.ts'

test('an scrypt hash matches its password and no other, and two hashes of one password differ', async () => {
  const first = await hashPassword('correct horse')
  const second = await hashPassword('correct horse')
  assert.match(first, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
  assert.notEqual(first, second)
  const stored = parseStoredHash(first) as StoredHash
  assert.equal(await verifyPassword('correct horse', stored), true)
  assert.equal(await verifyPassword('correct horse ', stored), false)
  assert.equal(await verifyPassword('', stored), false)
})

test('a bcrypt hash from another tool matches its password', async () => {
  const { hashSync } = await import('bcryptjs')
  const stored = parseStoredHash(hashSync('pässword', 4)) as StoredHash
  assert.equal(stored.kind, 'bcrypt')
  assert.equal(await verifyPassword('pässword', stored), true)
  assert.equal(await verifyPassword('password', stored), false)
})

test('texts that are not hashes Portico can check, or cost too much to check, are refused with a reason', () => {
  for (const [text, says] of [
    ['wonderland', 'expected a password hash'],
    ['$scrypt$ln=25,r=8,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5', 'cost out of range'],
    ['$scrypt$ln=15,r=8,p=1$c2FsdA$a2V5', 'shorter than 16 bytes'],
    [`$2b$31$${'a'.repeat(53)}`, 'bcrypt cost out of range'],
    ['$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', 'expected a password hash'],
  ] as const) {
    const parsed = parseStoredHash(text)
    assert.equal(typeof parsed, 'string', text)
    assert.ok((parsed as string).includes(says), `${text}: ${parsed}`)
  }
})

test('checks beyond the two under way at once wait their turn and still answer right', async () => {
  const stored = parseStoredHash(await hashPassword('queue')) as StoredHash
  const tries = ['queue', 'nope', 'queue', 'queue', 'nope', 'queue', 'nope', 'queue']
  assert.deepEqual(
    await Promise.all(tries.map((p) => verifyPassword(p, stored))),
    tries.map((p) => p === 'queue'),
  )
})
