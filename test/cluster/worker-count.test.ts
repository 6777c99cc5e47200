import assert from 'node:assert/strict'
import { test } from 'node:test'
import { workerCount } from '../../src/cluster/worker-count.ts'
import { parseConfig } from '../../src/config/load.ts'

const listeners = (...addresses: string[]) => addresses.map((address) => ({ address }))

test('workers: auto means one per core, a number means that many, and port 0 makes auto one', () => {
  const cases = [
    { workers: 'auto', listeners: listeners('0.0.0.0:8080'), cores: 4, expected: 4 },
    { workers: 'auto', listeners: listeners('0.0.0.0:8080', '127.0.0.1:0'), cores: 4, expected: 1 },
    { workers: 3, listeners: listeners('127.0.0.1:0'), cores: 4, expected: 3 },
    { workers: 1, listeners: listeners('0.0.0.0:8080'), cores: 8, expected: 1 },
  ] as const
  for (const c of cases) assert.equal(workerCount(c, c.cores), c.expected, JSON.stringify(c))
})

test('workers defaults to auto, and a wrong value is named with its place in the file', () => {
  const base =
    'listeners: [{ address: "127.0.0.1:0" }]\npools: { web: { servers: ["127.0.0.1:1"] } }\nroutes: [{ pool: web }]\n'
  assert.equal(parseConfig(base, 'p.yaml').workers, 'auto')
  assert.equal(parseConfig(`${base}workers: 2\n`, 'p.yaml').workers, 2)
  assert.throws(() => parseConfig(`${base}workers: 0\n`, 'p.yaml'), {
    message: /^p\.yaml:4:10 workers: .*found 0/,
  })
  assert.throws(() => parseConfig(`${base}workers: many\n`, 'p.yaml'), { message: /^p\.yaml:4:10 workers: .*"many"/ })
})
