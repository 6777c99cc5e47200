import assert from 'node:assert/strict'
import { test } from 'node:test'
import { masked } from '../../src/admin/mask.ts'

test('the config the API shows masks secrets: the secret block, sticky secrets, passwords in URLs', () => {
  const config = {
    secret: { value: 'k'.repeat(40) },
    pools: { web: { sticky: { secret: 's'.repeat(40), cookie: 'srv' }, servers: ['127.0.0.1:1'] } },
    redis: { url: 'redis://user:hunter2@10.0.0.5:6379/0' },
    listeners: [{ address: '127.0.0.1:8080' }],
  }
  assert.deepEqual(masked(config), {
    secret: { value: '***' },
    pools: { web: { sticky: { secret: '***', cookie: 'srv' }, servers: ['127.0.0.1:1'] } },
    redis: { url: 'redis://user:***@10.0.0.5:6379/0' },
    listeners: [{ address: '127.0.0.1:8080' }],
  })
  assert.deepEqual(masked({ secret: { file: '/etc/portico/secret' } }), { secret: { file: '/etc/portico/secret' } })
})
