import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { adminConfig, ctl, startAdminPortico } from '../helpers/admin.ts'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { writeConfig } from '../helpers/spawn.ts'

const timeout = 60_000

test('an invalid file is refused by a reload through the API: the errors come back, the old config keeps serving', {
  timeout,
}, async (t) => {
  const a = await startBackend(t, 'a')
  const { url, file, call } = await startAdminPortico(t, adminConfig([a.address]))
  writeFileSync(file, stringify(adminConfig([a.address])).replace('routes:', 'routs:'))
  const refused = await call('POST', '/reload')
  assert.equal(refused.status, 422)
  assert.equal(refused.body.ok, false)
  assert.ok(refused.body.errors.some((e: string) => e.includes('unknown key "routs"; did you mean "routes"?')))
  const { body: config } = await call('GET', '/config')
  assert.deepEqual(config.last_reload_error.errors, refused.body.errors)
  assert.equal((await get(url)).body, 'a')
})

test('with watch_config, a change of the file is reloaded on its own, once it has settled', { timeout }, async (t) => {
  const [a, b] = await Promise.all([startBackend(t, 'a'), startBackend(t, 'b')])
  const watched = (server: string) =>
    adminConfig([server], 2, {
      admin: {
        address: '127.0.0.1:0',
        tokens: [{ name: 'ops', env: 'TEST_ADMIN_TOKEN' }],
        watch_config: true,
        watch_debounce: '100ms',
      },
    })
  const { url, file, p } = await startAdminPortico(t, watched(a.address))
  writeFileSync(file, stringify(watched(b.address)))
  await p.waitFor(/"by":"file watch"[^\n]*"config reloaded"|config reloaded[^\n]*file watch/)
  assert.equal((await get(url)).body, 'b')
})

test('portico ctl validate checks a file against the running Portico without applying it', { timeout }, async (t) => {
  const a = await startBackend(t, 'a')
  const { url, admin } = await startAdminPortico(t, adminConfig([a.address], 1))
  const bad = writeConfig('listeners: []\npools: {}\nroutes: [{pool: web}]\n')
  const refused = await (await ctl(t, admin, ['validate', bad])).exited
  assert.equal(refused.code, 1)
  assert.match(refused.out, /body:1:\d+ listeners: /)
  const good = writeConfig(stringify(adminConfig([a.address], 1)))
  const accepted = await (await ctl(t, admin, ['validate', good])).exited
  assert.equal(accepted.code, 0, accepted.out)
  assert.match(accepted.out, /: ok$/m)
  assert.equal((await get(url)).body, 'a')
})
