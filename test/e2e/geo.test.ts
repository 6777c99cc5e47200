import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

// Addresses the embedded database places in Germany and France (checked when these tests were written).
const german = '85.214.1.1'
const french = '193.51.224.1'

const countryRoutes = [
  {
    match: { country: 'DE' },
    respond: { body: 'de {client_ip}' },
    response_headers: { set: { 'x-country': '{country}' } },
  },
  { match: { country: ['FR', 'BE'] }, respond: { body: 'fr {client_ip}' } },
  { respond: { body: 'elsewhere {client_ip} [{country}]' } },
]

test('behind a trusted proxy, X-Forwarded-For gives the client, and its country routes', async (t) => {
  const proxy = await startPortico(t, { pools: {}, trusted_proxies: ['127.0.0.1'], routes: countryRoutes })
  const de = await get(proxy.url, { 'x-forwarded-for': german })
  assert.equal(de.body, `de ${german}`)
  assert.equal(de.headers['x-country'], 'DE')
  // Rightmost untrusted: a client-written entry on the left cannot win.
  assert.equal((await get(proxy.url, { 'x-forwarded-for': `${german}, ${french}` })).body, `fr ${french}`)
  assert.equal(
    (await get(proxy.url, { forwarded: `for=${german};proto=https, for="${french}:4711"` })).body,
    `fr ${french}`,
  )
  assert.equal((await get(proxy.url)).body, 'elsewhere 127.0.0.1 []')
})

test('hops that are trusted proxies are skipped, and a hop that is not an address ends the walk', async (t) => {
  const proxy = await startPortico(t, {
    pools: {},
    trusted_proxies: ['127.0.0.1', '10.0.0.0/8'],
    routes: countryRoutes,
  })
  assert.equal((await get(proxy.url, { 'x-forwarded-for': `${german}, 10.1.2.3` })).body, `de ${german}`)
  assert.equal(
    (await get(proxy.url, { 'x-forwarded-for': `${german}, unknown, 10.1.2.3` })).body,
    'elsewhere 10.1.2.3 []',
  )
})

test('an untrusted client that claims an address in X-Forwarded-For or Forwarded is not believed', async (t) => {
  const proxy = await startPortico(t, { pools: {}, trusted_proxies: ['10.0.0.0/8'], routes: countryRoutes })
  assert.equal((await get(proxy.url, { 'x-forwarded-for': german })).body, 'elsewhere 127.0.0.1 []')
  assert.equal((await get(proxy.url, { forwarded: `for=${german}` })).body, 'elsewhere 127.0.0.1 []')
})

test('the country goes to the backend in a request header and into the access log', async (t) => {
  const backend = await startBackend(t, 'echo', (req, res) => {
    res.end(`${req.headers['x-client-country']} ${req.headers['x-forwarded-for']}`)
  })
  const proxy = await startPortico(t, {
    pools: { echo: { servers: [backend.address] } },
    trusted_proxies: ['127.0.0.1'],
    routes: [{ pool: 'echo', request_headers: { set: { 'x-client-country': '{country}' } } }],
  })
  // The trusted proxy's list is kept and extended with the peer that handed it over.
  assert.equal((await get(proxy.url, { 'x-forwarded-for': french })).body, `FR ${french}, 127.0.0.1`)

  const config = writeConfig({
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { echo: { servers: [backend.address] } },
    trusted_proxies: ['127.0.0.1'],
    routes: [{ pool: 'echo' }],
    // No route asks for the country, so the log gets it only when asked to.
    geo: { enabled: true },
    access_log: { output: 'stdout', format: 'json' },
  })
  const spawned = await spawnPortico(t, ['run', '-c', config], { listeners: 1 })
  await get(spawned.urls[0]!, { 'x-forwarded-for': german })
  // A whole line: its newline has been read too.
  const [line] = await spawned.waitFor(/^.*"country":"DE".*\n/m)
  assert.equal(JSON.parse(line).client, german)
})

test('geo.database points to another MaxMind-format file; a missing one is a config error', async (t) => {
  const { embeddedDatabase } = await import('../../src/geo/country-db.ts')
  const proxy = await startPortico(t, {
    pools: {},
    trusted_proxies: ['127.0.0.1'],
    geo: { database: embeddedDatabase },
    routes: countryRoutes,
  })
  assert.equal((await get(proxy.url, { 'x-forwarded-for': german })).body, `de ${german}`)
  const file = writeConfig({
    listeners: [{ address: '127.0.0.1:0' }],
    pools: {},
    routes: [{ respond: {} }],
    geo: { database: '/no/such.mmdb' },
  })
  const validate = await spawnPortico(t, ['validate', '-c', file])
  assert.equal(await validate.exited, 1)
  assert.match(validate.output(), /:\d+:\d+ geo\.database: expected an existing \.mmdb file, found "\/no\/such\.mmdb"/)
})
