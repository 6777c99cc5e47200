import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { accessLogFile, readAccessLog, readLogRecords } from '../helpers/access-log.ts'
import { startBackend } from '../helpers/backend.ts'
import { get, rawHttp, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { spawnPortico, writeConfig } from '../helpers/spawn.ts'

async function loggingProxy(
  t: TestContext,
  file: string,
  servers: string[],
  format: 'auto' | 'json' | 'pretty' = 'json',
) {
  return startPortico(t, {
    pools: { web: { servers }, dead: { servers: ['127.0.0.1:1'] } },
    routes: [
      { name: 'broken', match: { path: '/dead' }, pool: 'dead' },
      { name: 'site', match: { host: 'app.example' }, pool: 'web' },
    ],
    access_log: { output: file, format },
  })
}

test('an ok exchange is logged as one JSON line with every field', async (t) => {
  const backend = await startBackend(t, 'a')
  const file = accessLogFile(t)
  const proxy = await loggingProxy(t, file, [backend.address])
  const reply = await request(`${proxy.url}/shop?item=1`, {
    method: 'POST',
    headers: { host: 'App.Example', 'content-type': 'text/plain' },
    body: 'hello',
  })
  assert.equal(reply.status, 200)
  const [line, ...rest] = await readLogRecords(proxy, file)
  assert.deepEqual(rest, [])
  assert.ok(line)
  assert.ok(!Number.isNaN(Date.parse(String(line.time))), 'time is a date')
  assert.equal(line.id, reply.headers['x-request-id'])
  assert.equal(line.client, '127.0.0.1')
  assert.equal(line.method, 'POST')
  assert.equal(line.host, 'app.example')
  assert.equal(line.path, '/shop?item=1')
  assert.equal(line.status, 200)
  assert.equal(line.bytes_in, 5)
  assert.equal(line.bytes_out, 1)
  assert.equal(line.route, 'site')
  assert.equal(line.pool, 'web')
  assert.equal(line.server, backend.address)
  assert.equal(typeof line.duration_ms, 'number')
  assert.equal(typeof line.backend_ms, 'number')
  assert.ok((line.backend_ms as number) <= (line.duration_ms as number))
  assert.equal(line.outcome, 'ok')
})

test('a chunked upload is logged with the bytes that came in', async (t) => {
  const backend = await startBackend(t, 'sink', (req, res) => {
    req.resume()
    req.on('end', () => res.end('stored'))
  })
  const file = accessLogFile(t)
  const proxy = await loggingProxy(t, file, [backend.address])
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest(proxy.url, { method: 'PUT', agent: false, headers: { host: 'app.example' } }, (res) => {
      res.resume()
      res.on('end', resolve)
    })
    req.on('error', reject)
    req.write('a'.repeat(700))
    req.end('b'.repeat(300))
  })
  const [line] = await readLogRecords(proxy, file)
  assert.equal(line?.bytes_in, 1000)
  assert.equal(line?.bytes_out, 'stored'.length)
})

test('a failed backend is logged with its status and outcome', async (t) => {
  const file = accessLogFile(t)
  const proxy = await loggingProxy(t, file, ['127.0.0.1:1'])
  const reply = await get(`${proxy.url}/dead`)
  assert.equal(reply.status, 502)
  const [line] = await readLogRecords(proxy, file)
  assert.equal(line?.status, 502)
  assert.equal(line?.outcome, 'backend_refused')
  assert.equal(line?.route, 'broken')
  assert.equal(line?.pool, 'dead')
  assert.equal(line?.server, '127.0.0.1:1')
  assert.equal(line?.backend_ms, undefined)
  assert.equal(line?.bytes_out, 'Bad Gateway\n'.length)
})

test('a request no route takes is logged as not_found', async (t) => {
  const file = accessLogFile(t)
  const proxy = await loggingProxy(t, file, ['127.0.0.1:1'])
  const reply = await get(`${proxy.url}/nowhere`, { host: 'unknown.example' })
  assert.equal(reply.status, 404)
  const [line] = await readLogRecords(proxy, file)
  assert.equal(line?.id, reply.headers['x-request-id'])
  assert.equal(line?.status, 404)
  assert.equal(line?.outcome, 'not_found')
  assert.equal(line?.host, 'unknown.example')
  assert.equal(line?.route, undefined)
  assert.equal(line?.server, undefined)
})

test('a client that goes away mid-exchange is logged as client_aborted and the backend request ends', async (t) => {
  let backendSawClose!: () => void
  const closed = new Promise<void>((resolve) => (backendSawClose = resolve))
  const backend = await startBackend(t, 'slow', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('partial')
    res.on('close', backendSawClose)
  })
  const file = accessLogFile(t)
  const proxy = await loggingProxy(t, file, [backend.address])
  const req = httpRequest(proxy.url, { agent: false, headers: { host: 'app.example' } })
  req.on('error', () => {})
  req.end()
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage]
  res.once('data', () => req.destroy())
  await closed
  const [line] = await readLogRecords(proxy, file)
  assert.equal(line?.outcome, 'client_aborted')
  assert.equal(line?.status, 200)
  assert.equal(line?.server, backend.address)
})

test('a client that gives up before the response head is logged as client_aborted with no status', async (t) => {
  let backendGotRequest!: () => void
  const received = new Promise<void>((resolve) => (backendGotRequest = resolve))
  let backendSawClose!: () => void
  const closed = new Promise<void>((resolve) => (backendSawClose = resolve))
  const backend = await startBackend(t, 'never', (_req, res) => {
    res.on('close', backendSawClose)
    backendGotRequest()
  })
  const file = accessLogFile(t)
  const proxy = await loggingProxy(t, file, [backend.address])
  const req = httpRequest(proxy.url, { agent: false, headers: { host: 'app.example' } })
  req.on('error', () => {})
  req.end()
  await received
  req.destroy()
  await closed
  const [line] = await readLogRecords(proxy, file)
  assert.equal(line?.outcome, 'client_aborted')
  assert.equal(line?.status, 0)
  assert.equal(line?.backend_ms, undefined)
})

test('requests the parser refuses are logged with their status, outcome and request id', async (t) => {
  const file = accessLogFile(t)
  const proxy = await startPortico(t, {
    pools: { web: { servers: ['127.0.0.1:1'] } },
    routes: [{ pool: 'web' }],
    limits: { max_header_bytes: '2KiB' },
    access_log: { output: file, format: 'json' },
  })
  const malformed = await rawHttp(
    proxy.url,
    'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
  )
  const tooLarge = await rawHttp(proxy.url, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(3000)}\r\n\r\n`)
  const lines = await readLogRecords(proxy, file)
  assert.deepEqual(
    lines.map((l) => [l.status, l.outcome, l.client]),
    [
      [400, 'bad_request', '127.0.0.1'],
      [431, 'header_too_large', '127.0.0.1'],
    ],
  )
  assert.match(malformed, new RegExp(`x-request-id: ${lines[0]!.id}\r\n`))
  assert.match(tooLarge, new RegExp(`x-request-id: ${lines[1]!.id}\r\n`))
})

test('no credential or cookie value is ever logged', async (t) => {
  const backend = await startBackend(t, 'a', (_req, res) => {
    res.setHeader('set-cookie', 'session=s3cr3t-from-backend')
    res.end('ok')
  })
  const file = accessLogFile(t)
  const proxy = await loggingProxy(t, file, [backend.address])
  await get(proxy.url, {
    host: 'app.example',
    authorization: 'Bearer s3cr3t-token',
    cookie: 'session=s3cr3t-cookie',
    'proxy-authorization': 'Basic s3cr3t-proxy',
  })
  const text = (await readAccessLog(proxy, file)).join('\n')
  assert.doesNotMatch(text, /s3cr3t/)
})

test('the pretty format writes one readable line per exchange', async (t) => {
  const backend = await startBackend(t, 'a')
  const file = accessLogFile(t)
  const proxy = await loggingProxy(t, file, [backend.address], 'pretty')
  const reply = await get(`${proxy.url}/page`, { host: 'app.example' })
  await get(`${proxy.url}/dead`)
  const lines = await readAccessLog(proxy, file)
  assert.equal(lines.length, 2)
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} 127\.0\.0\.1 GET app\.example\/page 200 /)
  assert.ok(lines[0]!.includes(String(reply.headers['x-request-id'])))
  assert.match(lines[1]!, / 502 .*backend_refused/)
  assert.ok(!lines.some((l) => l.startsWith('{')))
})

test('the access log goes to stdout as JSON lines when stdout is not a terminal', { timeout: 60_000 }, async (t) => {
  const backend = await startBackend(t, 'a')
  const config = writeConfig({
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
    access_log: { output: 'stdout' },
  })
  const portico = await spawnPortico(t, ['run', '-c', config], { listeners: 1 })
  const reply = await get(`${portico.urls[0]}/from-cli`)
  const id = String(reply.headers['x-request-id'])
  // A whole line: its newline has been read too.
  const [line] = await portico.waitFor(new RegExp(`^.*${id}.*\n`, 'm'))
  const record = JSON.parse(line) as Record<string, unknown>
  assert.equal(record.path, '/from-cli')
  assert.equal(record.outcome, 'ok')
})

test('the auto format writes JSON to a file, which is not a terminal', async (t) => {
  const backend = await startBackend(t, 'a')
  const file = accessLogFile(t)
  const proxy = await loggingProxy(t, file, [backend.address], 'auto')
  await get(proxy.url, { host: 'app.example' })
  const [line] = await readLogRecords(proxy, file)
  assert.equal(line?.outcome, 'ok')
})

test('an access log file that cannot be opened stops the start with a clear error', async (t) => {
  const missing = join(mkdtempSync(join(tmpdir(), 'portico-log-')), 'no-such-dir', 'access.log')
  const config = writeConfig({
    listeners: [{ address: '127.0.0.1:0' }],
    pools: { web: { servers: ['127.0.0.1:1'] } },
    routes: [{ pool: 'web' }],
    access_log: { output: missing },
  })
  const portico = await spawnPortico(t, ['run', '-c', config])
  // 'close' comes once its output is all read, after 'exit'.
  const closed = once(portico.child, 'close')
  assert.equal(await portico.exited, 3)
  await closed
  assert.match(portico.output(), new RegExp(`could not start: .*${missing.replaceAll('/', '\\/')}`))
  assert.doesNotMatch(portico.output(), /listening on/)
})

// A client that reads `limit` bytes through a 4 KiB receive buffer, prints how many it read, and
// goes away when told to (a line on its stdin). Perl, because Node cannot set SO_RCVBUF: on loopback the kernel would otherwise hold
// tens of megabytes the client never reads.
const earlyLeaver = `
use strict; use Socket qw(:all);
my ($port, $limit, $coding) = @ARGV; $| = 1;
socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
setsockopt($s, SOL_SOCKET, SO_RCVBUF, pack('i', 4096)) or die "SO_RCVBUF: $!";
connect($s, pack_sockaddr_in($port, inet_aton('127.0.0.1'))) or die "connect: $!";
syswrite($s, "GET / HTTP/1.1\\r\\nhost: app.example\\r\\naccept-encoding: $coding\\r\\n\\r\\n");
my $total = 0;
while ($total < $limit) {
  my $n = sysread($s, my $buf, 65536);
  next if !defined $n && $!{EINTR};
  last if !$n;
  $total += $n;
}
print "$total\\n";
<STDIN>;
`

for (const route of ['plain', 'buffered', 'compressed'] as const) {
  test(`bytes_out of a client that leaves early is at most what it read plus socket buffers, ${route} (#21)`, {
    timeout: 30_000,
  }, async (t) => {
    const size = 32 * 1024 * 1024
    let backendDone!: () => void
    const done = new Promise<void>((r) => (backendDone = r))
    const backend = await startBackend(t, 'big', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': size })
      res.on('finish', backendDone)
      // Random bytes: compression cannot shrink them, so compressed counts compare with read ones.
      const chunk = randomBytes(64 * 1024)
      let sent = 0
      const more = () => {
        while (sent < size) {
          sent += chunk.length
          if (!res.write(chunk)) return void res.once('drain', more)
        }
        res.end()
      }
      more()
    })
    const file = accessLogFile(t)
    const proxy = await startPortico(t, {
      pools: { web: { servers: [backend.address] } },
      routes: [
        {
          pool: 'web',
          ...(route === 'buffered' && { buffering: { response: { memory: '1MiB', disk: '64MiB' } } }),
          ...(route === 'compressed' && { compression: { types: ['text/plain'] } }),
        },
      ],
      access_log: { output: file, format: 'json' },
    })
    const coding = route === 'compressed' ? 'gzip' : 'identity'
    const child = spawn('perl', ['-e', earlyLeaver, new URL(proxy.url).port, String(256 * 1024), coding], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    t.after(() => child.kill())
    let printed = ''
    child.stdout.on('data', (c: Buffer) => (printed += c))
    await once(child.stdout, 'data')
    // A buffered response is all in Portico by then; the others wait for the client.
    if (route === 'buffered') await done
    child.stdin.end('\n')
    await once(child, 'exit')
    const read = Number(printed)
    assert.ok(read >= 256 * 1024)
    // The exchange ends when Portico hears of the client's going.
    for (let i = 0; i < 1000 && readFileSync(file, 'utf8') === ''; i++) await new Promise((r) => setTimeout(r, 10))
    const [line] = await readLogRecords(proxy, file)
    assert.equal(line?.outcome, 'client_aborted')
    // What the client read, what Portico's send buffer can hold at most (tcp_wmem's maximum), the
    // client's small receive buffer (64 KiB is ample), and what Portico queues (under 128 KiB).
    const sendBuffer = Number(readFileSync('/proc/sys/net/ipv4/tcp_wmem', 'utf8').trim().split(/\s+/)[2])
    const bound = read + sendBuffer + 64 * 1024 + 128 * 1024
    assert.ok(line!.bytes_out <= bound, `bytes_out ${line!.bytes_out} > ${bound}`)
  })
}
