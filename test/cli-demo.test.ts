import assert from 'node:assert/strict'
import { test } from 'node:test'
import { get } from './helpers/http.ts'
import { spawnPortico } from './helpers/spawn.ts'

test('run without a config starts the demo on $PORT, round robin over three demo backends', async (t) => {
  const portico = await spawnPortico(t, ['run'], { env: { PORT: '0' }, listeners: 1 })
  const url = portico.urls[0]!
  assert.match(url, /^http:\/\/127\.0\.0\.1:[1-9]\d*$/, 'the real bound port, not 0')
  await portico.waitFor(/try: curl /)
  assert.match(portico.output(), /three demo backends at 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+/)
  const seen = []
  for (let i = 0; i < 3; i++) {
    const reply = await get(`${url}/hello`)
    assert.equal(reply.status, 200)
    assert.match(reply.body, /^Hello from demo-[abc]: you asked for GET \/hello\n$/)
    seen.push(reply.headers['x-backend'])
  }
  assert.deepEqual([...seen].sort(), ['demo-a', 'demo-b', 'demo-c'])
  portico.child.kill('SIGTERM')
  assert.equal(await portico.exited, 0)
})

test('the demo refuses a PORT that is not a port number, with exit 1', async (t) => {
  const portico = await spawnPortico(t, ['run'], { env: { PORT: 'eighty' } })
  assert.equal(await portico.exited, 1)
  assert.equal(portico.output(), 'portico: PORT must be a port number from 0 to 65535, found "eighty"\n')
})
