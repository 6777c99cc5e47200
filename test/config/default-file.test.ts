import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { defaultConfigFile, systemConfigFile } from '../../src/config/default-file.ts'
import { startBackend } from '../helpers/backend.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

test('the default config file is $PORTICO_CONFIG, else /etc/portico/portico.yaml, and none when it does not exist', () => {
  const file = writeConfig('listeners: []\n')
  assert.equal(defaultConfigFile({ PORTICO_CONFIG: file }), file)
  assert.equal(defaultConfigFile({ PORTICO_CONFIG: '/dev/null/portico.yaml' }), undefined)
  assert.equal(systemConfigFile, '/etc/portico/portico.yaml')
})

test('run without -c serves the default config file, not the demo, and reloads it on SIGHUP', {
  timeout: 60_000,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const b = await startBackend(t, 'b')
  const config = (server: string) => ({
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { web: { servers: [server] } },
    routes: [{ pool: 'web' }],
  })
  const file = writeConfig(config(a.address))
  const portico = await spawnPortico(t, ['run'], { env: { PORTICO_CONFIG: file }, listeners: 1 })
  assert.doesNotMatch(portico.output(), /demo/)
  assert.equal(await (await fetch(portico.urls[0]!)).text(), 'a')
  writeFileSync(file, JSON.stringify(config(b.address)))
  portico.child.kill('SIGHUP')
  await portico.waitFor(/config reloaded/)
  assert.equal(await (await fetch(portico.urls[0]!)).text(), 'b')
  portico.child.kill('SIGTERM')
  assert.equal(await portico.exited, 0)
})

test('validate without -c checks the default config file', { timeout: 30_000 }, async (t) => {
  const file = writeConfig({ listeners: [{ address: '127.0.0.1:0' }], pools: { web: { servers: ['127.0.0.1:1'] } } })
  const portico = await spawnPortico(t, ['validate'], { env: { PORTICO_CONFIG: file } })
  assert.equal(await portico.exited, 1)
  assert.match(portico.output(), /portico\.yaml:1:1 missing required key "routes"/)
})
