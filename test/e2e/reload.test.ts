import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

test('SIGHUP reloads the config file; a broken one is refused with its errors and the old routes keep serving', async (t) => {
  const [a, b] = await Promise.all([startBackend(t, 'a'), startBackend(t, 'b')])
  const config = (pool: string) => ({
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { a: { servers: [a.address] }, b: { servers: [b.address] } },
    routes: [{ pool }],
    access_log: { output: 'off' },
  })
  const file = writeConfig(config('a'))
  const portico = await spawnPortico(t, ['run', '-c', file], { listeners: 1 })
  const url = portico.urls[0]!
  assert.equal((await get(url)).body, 'a')

  writeFileSync(file, stringify(config('b')))
  portico.child.kill('SIGHUP')
  await portico.waitFor(/config reloaded/)
  assert.equal((await get(url)).body, 'b')

  writeFileSync(file, stringify(config('a')).replace('routes:', 'routs:'))
  portico.child.kill('SIGHUP')
  const [refusal] = await portico.waitFor(/^.*reload refused.*$/m)
  const { errors } = JSON.parse(refusal) as { errors: string[] }
  assert.ok(errors.includes(`${file}:10:1 routs: unknown key "routs"; did you mean "routes"?`), refusal)
  assert.equal((await get(url)).body, 'b')
  assert.equal(portico.child.exitCode, null, 'still running')
})

test('a reload that changes listeners says they wait for a restart', async (t) => {
  const { address } = await startBackend(t, 'a')
  const config = (port: number) => ({
    listeners: [{ address: `127.0.0.1:${port}` }],
    pools: { web: { servers: [address] } },
    routes: [{ pool: 'web' }],
    access_log: { output: 'off' },
  })
  const file = writeConfig(config(0))
  const portico = await spawnPortico(t, ['run', '-c', file], { listeners: 1 })
  writeFileSync(file, stringify(config(1)))
  portico.child.kill('SIGHUP')
  const [warning] = await portico.waitFor(/^.*changes that take effect only on restart.*$/m)
  assert.deepEqual((JSON.parse(warning) as { keys: string[] }).keys, ['listeners'])
  assert.equal((await get(portico.urls[0]!)).body, 'a')
})
