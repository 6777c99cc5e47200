import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { before, test } from 'node:test'
import { promisify } from 'node:util'
import { startBackend } from '../helpers/backend.ts'
import { builtExecutable } from '../helpers/executable.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

const run = promisify(execFile)
const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string
let executable = ''

before(
  () => {
    executable = builtExecutable()
  },
  { timeout: 120_000 },
)

/** A config with two workers in front of `servers`, that sends clients from France to a local 451. */
function config(servers: string[]) {
  return {
    listeners: [{ address: '127.0.0.1:0' }],
    workers: 2,
    trusted_proxies: ['127.0.0.1'],
    pools: { web: { servers } },
    routes: [{ match: { country: ['FR'] }, respond: { status: 451, body: 'not in France\n' } }, { pool: 'web' }],
  }
}

test('the executable prints its version', { timeout: 30_000 }, async () => {
  const { stdout } = await run(executable, ['--version'])
  assert.equal(stdout, `portico ${version}\n`)
})

test('the executable validates a config and names the line of a mistake', { timeout: 30_000 }, async () => {
  const good = writeConfig(config(['127.0.0.1:1']))
  assert.match((await run(executable, ['validate', '-c', good])).stdout, /ok, 1 listener, 2 routes, 1 pool, 1 server/)
  const bad = writeConfig('listeners:\n  - address: 127.0.0.1:0\npools:\n  web:\n    balancer: round_robbin\n')
  const failed = await run(executable, ['validate', '-c', bad]).then(
    () => assert.fail('an invalid config passed'),
    (err: { code: number; stderr: string }) => err,
  )
  assert.equal(failed.code, 1)
  assert.match(failed.stderr, /portico\.yaml:5:15/)
})

test('the executable serves with two workers, routes by country, reloads on SIGHUP and drains on SIGTERM', {
  timeout: 60_000,
}, async (t) => {
  let release = () => {}
  const slowStarted = Promise.withResolvers<void>()
  const a = await startBackend(t, 'a', (req, res) => {
    if (req.url !== '/slow') return res.end('a')
    slowStarted.resolve()
    release = () => res.end('slow answer')
  })
  const b = await startBackend(t, 'b')
  const file = writeConfig(config([a.address]))
  const portico = await spawnPortico(t, ['run', '-c', file], { executable, listeners: 1 })
  const url = portico.urls[0]!
  // The environment of src/cli.ts's shebang line (malloc's settings) is set in the process itself.
  assert.match(readFileSync(`/proc/${portico.child.pid}/environ`, 'utf8'), /(^|\0)MALLOC_MMAP_THRESHOLD_=131072\0/)
  assert.equal(await (await fetch(url)).text(), 'a')
  // The geo database travels inside the executable.
  const fromFrance = await fetch(url, { headers: { 'x-forwarded-for': '193.51.224.1' } })
  assert.equal(fromFrance.status, 451)
  await fromFrance.text()

  writeFileSync(file, JSON.stringify(config([b.address])))
  portico.child.kill('SIGHUP')
  await portico.waitFor(/config reloaded/)
  // Both workers run the new config: every answer comes from b.
  for (let i = 0; i < 4; i++) assert.equal(await (await fetch(url)).text(), 'b')

  writeFileSync(file, JSON.stringify(config([a.address])))
  portico.child.kill('SIGHUP')
  await portico.waitFor(/config reloaded[\s\S]*config reloaded/)
  const slow = fetch(`${url}/slow`)
  await slowStarted.promise
  portico.child.kill('SIGTERM')
  await portico.waitFor(/draining/)
  release()
  const answer = await slow
  assert.equal(answer.status, 200)
  assert.equal(await answer.text(), 'slow answer')
  assert.equal(await portico.exited, 0)
})
