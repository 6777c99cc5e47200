import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { startBackend } from '../helpers/backend.ts'
import { builtExecutable } from '../helpers/executable.ts'
import { spawnPortico } from '../helpers/spawn.ts'

const run = promisify(execFile)
const root = new URL('../..', import.meta.url).pathname
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string

function has(command: string): boolean {
  return execFileSync('sh', ['-c', `command -v ${command} || true`], { encoding: 'utf8' }).trim() !== ''
}
function installed(name: string): boolean {
  try {
    return /^Status: .* installed$/m.test(execFileSync('dpkg', ['-s', name], { encoding: 'utf8', stdio: 'pipe' }))
  } catch {
    return false
  }
}
const skip =
  process.getuid?.() !== 0
    ? 'installing a package needs root'
    : !has('dpkg-deb') || !has('setpriv')
      ? 'dpkg-deb and setpriv (Debian) are needed'
      : installed('portico')
        ? 'a portico package is installed on this machine already, and the test would replace it'
        : false

/** A free port below 1024 on the loopback, which only a process with CAP_NET_BIND_SERVICE can bind. */
async function privilegedPort(): Promise<number> {
  // Below 990: fetch refuses 993 and 995 (the Fetch standard's bad ports), whatever listens there.
  for (let port = 900 + Math.floor(Math.random() * 80); port < 990; port++) {
    const server = createServer()
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => resolve(true))
    })
    if (bound) return new Promise((resolve) => server.close(() => resolve(port)))
  }
  throw new Error('no free port from 900 to 989')
}

/** The unit's `Key=value` settings. */
function unitSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const m = line.match(/^(\w+)=(.*)$/)
    if (m) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!])
  }
  return settings
}

test('the Debian package installs portico, its user, unit and config, and runs as the unit starts it', {
  skip,
  timeout: 180_000,
}, async (t) => {
  builtExecutable()
  await run(process.execPath, [join(root, 'packaging/deb/build.ts')])
  const deb = join(root, 'dist', `portico_${version}_amd64.deb`)
  const userExisted = execFileSync('sh', ['-c', 'getent passwd portico || true'], { encoding: 'utf8' }) !== ''
  t.after(() => {
    execFileSync('dpkg', ['--purge', 'portico'], { stdio: 'pipe' })
    if (!userExisted) execFileSync('userdel', ['portico'], { stdio: 'pipe' })
  })
  await run('dpkg', ['-i', deb])

  assert.match(execFileSync('getent', ['passwd', 'portico'], { encoding: 'utf8' }), /:\/usr\/sbin\/nologin\n$/)
  assert.equal((await run('/usr/bin/portico', ['--version'])).stdout, `portico ${version}\n`)
  // The shipped config is valid as it is.
  assert.match((await run('/usr/bin/portico', ['validate', '-c', '/etc/portico/portico.yaml'])).stdout, /: ok, /)
  assert.match(readFileSync('/var/lib/dpkg/info/portico.conffiles', 'utf8'), /^\/etc\/portico\/portico\.yaml$/m)
  const unitFile = '/lib/systemd/system/portico.service'
  if (has('systemd-analyze')) await run('systemd-analyze', ['verify', unitFile])
  const unit = unitSettings(readFileSync(unitFile, 'utf8'))
  assert.deepEqual(unit.get('User'), ['portico'])
  assert.deepEqual(unit.get('AmbientCapabilities'), ['CAP_NET_BIND_SERVICE'])

  // Where systemd is not PID 1 (a container), nothing started it: the test starts the unit's ExecStart as systemd
  // would, as the portico user with only CAP_NET_BIND_SERVICE and no new privileges, on a port below 1024.
  if (existsSync('/run/systemd/system')) await run('systemctl', ['stop', 'portico.service'])
  const backend = await startBackend(t, 'a')
  const port = await privilegedPort()
  writeFileSync(
    '/etc/portico/portico.yaml',
    `listeners:\n  - address: 127.0.0.1:${port}\nworkers: 2\npools:\n  web:\n    servers: [${backend.address}]\nroutes:\n  - pool: web\n`,
  )
  const execStart = unit.get('ExecStart')![0]!.split(' ')
  const setpriv = ['--reuid=portico', '--regid=portico', '--init-groups', '--no-new-privs']
  const caps = ['--inh-caps=-all,+net_bind_service', '--ambient-caps=-all,+net_bind_service']
  const portico = await spawnPortico(t, [...setpriv, ...caps, '--bounding-set=-all,+net_bind_service', ...execStart], {
    executable: '/usr/bin/setpriv',
    env: { PORTICO_CONFIG: '/etc/portico/portico.yaml' },
    listeners: 1,
  })
  assert.equal(portico.urls[0], `http://127.0.0.1:${port}`)
  assert.equal(await (await fetch(portico.urls[0]!)).text(), 'a')
  const uid = readFileSync(`/proc/${portico.child.pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)![1]
  assert.equal(uid, execFileSync('id', ['-u', 'portico'], { encoding: 'utf8' }).trim())
  // ExecReload, then KillSignal.
  portico.child.kill('SIGHUP')
  await portico.waitFor(/config reloaded/)
  portico.child.kill('SIGTERM')
  assert.equal(await portico.exited, 0)
})
