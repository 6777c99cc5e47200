import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { lines } from './output.ts'

const fixture = new URL('./fixtures/shared-cluster.ts', import.meta.url).pathname

test('a value the leader worker shares reaches every worker, and a replacement too', async (t) => {
  const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => child.kill('SIGKILL'))
  let text = ''
  const seen = () =>
    lines(text)
      .filter((l) => l.includes('"test/leader"'))
      .map((l) => JSON.parse(l) as { pid: number; value: number })
  const until = <T>(check: () => T | undefined) =>
    new Promise<T>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        text += chunk
        const found = check()
        if (found === undefined) return
        child.stdout.off('data', onData)
        child.stderr.off('data', onData)
        resolve(found)
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${text}`)))
    })

  // A worker that dies before all are up fails the start, by design: wait until they are.
  const first = await until(() => (seen().length >= 3 && text.includes('"workers started"') ? seen() : undefined))
  const leader = first[0]!.value
  assert.equal(new Set(first.map((s) => s.pid)).size, 3)
  assert.ok(first.every((s) => s.value === leader))
  assert.ok(first.some((s) => s.pid === leader))

  const other = first.find((s) => s.pid !== leader)!.pid
  process.kill(other, 'SIGKILL')
  const replacement = await until(() => seen().find((s) => !first.some((f) => f.pid === s.pid)))
  assert.equal(replacement.value, leader)
  child.kill('SIGTERM')
  assert.deepEqual(await once(child, 'exit'), [0, null])
})
