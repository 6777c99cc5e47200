import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/load.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

const examples = new URL('../../examples/', import.meta.url).pathname

test('the routing and static examples are valid configs', () => {
  for (const name of ['routing.yaml', 'static.yaml']) {
    const config = loadConfig(examples + name, { STATIC_ROOT: `${examples}site` })
    assert.ok(config.routes.length > 0, name)
  }
})

test('the static example serves its site', async (t) => {
  const config = loadConfig(`${examples}static.yaml`, { STATIC_ROOT: `${examples}site` })
  const proxy = await startPortico(t, {
    ...config,
    access_log: { output: 'off' },
    listeners: [{ address: '127.0.0.1:0' }],
  })
  const home = await get(proxy.url)
  assert.equal(home.status, 200)
  assert.match(home.body, /Served by Portico/)
  assert.equal((await get(`${proxy.url}/assets/index.html`)).headers['cache-control'], 'public, max-age=3600')
})
