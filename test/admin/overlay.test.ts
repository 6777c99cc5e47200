import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Overlay } from '../../src/admin/overlay.ts'
import { testConfig } from '../helpers/portico.ts'

const file = testConfig({
  pools: { web: { servers: ['10.0.0.1:80', { address: '10.0.0.2:80', weight: 2 }] } },
  routes: [{ pool: 'web' }],
})

const servers = (overlay: Overlay, config = file) =>
  overlay.apply(config).pools.web!.servers.map((s) => (typeof s === 'string' ? s : `${s.address}×${s.weight}`))

test('changes made through the API apply on top of the file and are listed against it', () => {
  const overlay = new Overlay()
  overlay.setWeight('web', '10.0.0.2:80', 5)
  overlay.add('web', '10.0.0.3:80', 1)
  overlay.remove('web', '10.0.0.1:80')
  overlay.drain('web', '10.0.0.2:80')
  assert.deepEqual(servers(overlay), ['10.0.0.2:80×5', '10.0.0.3:80×1'])
  assert.deepEqual(overlay.changes(file), [
    { pool: 'web', server: '10.0.0.1:80', change: 'removed' },
    { pool: 'web', server: '10.0.0.2:80', change: 'weight', file: 2, now: 5 },
    { pool: 'web', server: '10.0.0.3:80', change: 'added', now: 1 },
    { pool: 'web', server: '10.0.0.2:80', change: 'draining' },
  ])
})

test('a reload forgets the config changes and says which, keeps drains, and a weight the file now has is no change', () => {
  const overlay = new Overlay()
  overlay.setWeight('web', '10.0.0.2:80', 5)
  overlay.setWeight('web', '10.0.0.1:80', 3)
  overlay.drain('web', '10.0.0.1:80')
  const next = testConfig({
    pools: { web: { servers: ['10.0.0.1:80', { address: '10.0.0.2:80', weight: 5 }] } },
    routes: [{ pool: 'web' }],
  })
  assert.deepEqual(overlay.forgetConfigChanges(next), [
    { pool: 'web', server: '10.0.0.1:80', change: 'weight', file: 1, now: 3 },
  ])
  assert.deepEqual(servers(overlay, next), ['10.0.0.1:80×1', '10.0.0.2:80×5'])
  assert.deepEqual(overlay.changes(next), [{ pool: 'web', server: '10.0.0.1:80', change: 'draining' }])
})

test('a server removed and added again is back with the weight asked for; an added one removed leaves no trace', () => {
  const overlay = new Overlay()
  overlay.remove('web', '10.0.0.1:80')
  overlay.add('web', '10.0.0.1:80', 4)
  overlay.add('web', '10.0.0.9:80', 1)
  overlay.remove('web', '10.0.0.9:80')
  assert.deepEqual(servers(overlay), ['10.0.0.1:80×4', '10.0.0.2:80×2'])
  assert.deepEqual(overlay.changes(file), [{ pool: 'web', server: '10.0.0.1:80', change: 'weight', file: 1, now: 4 }])
})
