import assert from 'node:assert/strict'
import { Resolver } from 'node:dns/promises'
import { writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { lookupName, lookupSrv } from '../../src/discovery/lookup.ts'
import { readServersFile } from '../../src/discovery/servers-file.ts'
import { startDns } from '../helpers/dns-server.ts'
import { writeConfig } from '../helpers/spawn.ts'

async function resolverFor(t: test.TestContext, records: Parameters<typeof startDns>[1]) {
  const dns = await startDns(t, records)
  const resolver = new Resolver({ timeout: 2000, tries: 1 })
  resolver.setServers([dns.address])
  return { dns, resolver }
}

test('each A and AAAA record is a server on the port, kept for the lowest TTL', async (t) => {
  const { resolver } = await resolverFor(t, { 'web.test': { a: ['10.0.0.1', '10.0.0.2'], aaaa: ['fd00::1'], ttl: 42 } })
  const found = await lookupName(resolver, 'web.test', 3000, 2)
  assert.deepEqual(found.servers, [
    { address: '10.0.0.1:3000', weight: 2 },
    { address: '10.0.0.2:3000', weight: 2 },
    { address: '[fd00::1]:3000', weight: 2 },
  ])
  assert.equal(found.ttlMs, 42_000)
})

test('a name with no records, an unknown one and a failing one are refused', async (t) => {
  const { resolver } = await resolverFor(t, { 'empty.test': {}, 'bad.test': { fail: true } })
  await assert.rejects(lookupName(resolver, 'empty.test', 80, 1))
  await assert.rejects(lookupName(resolver, 'nope.test', 80, 1), { code: 'ENOTFOUND' })
  await assert.rejects(lookupName(resolver, 'bad.test', 80, 1), { code: 'ESERVFAIL' })
})

test('SRV records of the lowest priority give servers at their targets and ports, weighted within 1 to 1000', async (t) => {
  const { resolver } = await resolverFor(t, {
    '_http._tcp.api.test': {
      srv: [
        { priority: 10, weight: 0, port: 8001, target: 'a.test' },
        { priority: 10, weight: 5000, port: 8002, target: 'b.test' },
        { priority: 20, weight: 1, port: 8003, target: 'c.test' },
      ],
    },
    'a.test': { a: ['10.0.0.1'] },
    'b.test': { a: ['10.0.0.2'] },
    'c.test': { a: ['10.0.0.3'] },
  })
  const found = await lookupSrv(resolver, '_http._tcp.api.test')
  assert.deepEqual(found.servers, [
    { address: '10.0.0.1:8001', weight: 1 },
    { address: '10.0.0.2:8002', weight: 1000 },
  ])
  assert.equal(found.ttlMs, undefined)
})

test('a servers file is a JSON or YAML list of addresses or {address, weight}; a bad entry is named', async () => {
  const yaml = writeConfig('- 10.0.0.1:80\n- { address: "[::1]:81", weight: 3 }\n', 'servers.yaml')
  assert.deepEqual(await readServersFile(yaml), [
    { address: '10.0.0.1:80', weight: 1 },
    { address: '[::1]:81', weight: 3 },
  ])
  const json = writeConfig('', 'servers.json')
  writeFileSync(json, JSON.stringify(['10.0.0.1:80', { address: '10.0.0.2:80', weight: 0 }]))
  assert.deepEqual(
    (await readServersFile(json)).map((s) => s.weight),
    [1, 0],
  )
  writeFileSync(json, JSON.stringify(['10.0.0.1:80', { address: '10.0.0.2:80', weight: 5000 }]))
  await assert.rejects(readServersFile(json), /servers\.json\[1\]: weight must be an integer from 0 to 1000/)
  writeFileSync(json, '{"not": "a list"}')
  await assert.rejects(readServersFile(json), /expected a list of servers/)
  writeFileSync(json, '[')
  await assert.rejects(readServersFile(json), /not valid JSON/)
})
