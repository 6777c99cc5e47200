import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig, parseConfig } from '../../../src/config/load.ts'

test('examples/compression.yaml is a valid config with compression and both kinds of buffering', () => {
  const config = loadConfig(new URL('../../../examples/compression.yaml', import.meta.url).pathname)
  const [uploads, app] = config.routes
  assert.equal(uploads!.buffering?.request?.memory, 1024 * 1024)
  assert.equal(uploads!.compression?.requests?.max_decoded_size, 10 * 1024 * 1024)
  assert.deepEqual(app!.compression?.codings, ['zstd', 'br', 'gzip'])
  assert.equal(app!.buffering?.response?.disk, 1024 ** 3)
})

test('a compression level out of range is named with its place in the file', () => {
  const yaml = `listeners: [{ address: "127.0.0.1:0" }]
pools: { web: { servers: ["127.0.0.1:1"] } }
routes:
  - pool: web
    compression:
      levels: { br: 12 }
    buffering:
      response: { memory: lots }
      temp_dir: /no/such/dir
`
  assert.throws(
    () => parseConfig(yaml, 'portico.yaml'),
    (err: Error) =>
      /portico\.yaml:6:\d+ routes\[0\]\.compression\.levels\.br: .*11/.test(err.message) &&
      /portico\.yaml:8:\d+ routes\[0\]\.buffering\.response\.memory: expected a size/.test(err.message) &&
      /portico\.yaml:9:\d+ routes\[0\]\.buffering\.temp_dir: expected an existing directory/.test(err.message),
  )
})
