import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { parseStoredHash, type StoredHash, verifyPassword } from '../src/filters/auth/password.ts'

const cli = new URL('../src/cli.ts', import.meta.url).pathname

/** Runs `portico hash-password` with `input` on its standard input. */
async function hashPasswordCommand(input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, 'hash-password'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c) => (stdout += c))
  child.stderr.on('data', (c) => (stderr += c))
  child.stdin.end(input)
  const [code] = await once(child, 'close')
  return { code: code as number | null, stdout, stderr }
}

test('portico hash-password prints a hash of the first line of its input that basic auth accepts', {
  timeout: 30_000,
}, async () => {
  const { code, stdout } = await hashPasswordCommand('open sesame\nignored\n')
  assert.equal(code, 0)
  const stored = parseStoredHash(stdout.trimEnd())
  assert.equal(typeof stored, 'object', stdout)
  assert.equal(await verifyPassword('open sesame', stored as StoredHash), true)
})

test('portico hash-password with no password exits 2 and says why', { timeout: 30_000 }, async () => {
  const { code, stdout, stderr } = await hashPasswordCommand('')
  assert.equal(code, 2)
  assert.equal(stdout, '')
  assert.match(stderr, /needs a password/)
})
