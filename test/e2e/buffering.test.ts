import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readlinkSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { accessLogFile, readLogRecords } from '../helpers/access-log.ts'
import { startBackend } from '../helpers/backend.ts'
import { get, rawHttp, request } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'
import { removeWhenDone } from '../helpers/remove-dir.ts'

const MiB = 1024 * 1024
const body = Buffer.alloc(2 * MiB, 'x')

// The slow client is a raw socket in perl (part of every Debian base system), because Node cannot
// set SO_RCVBUF or TCP_MAXSEG: a small receive buffer and a real-world segment size keep the
// kernel from soaking up megabytes on loopback, where a 64 KiB MSS inflates socket buffers.
// It reads 1 KiB every 50 ms (20 KiB/s) and prints its running total; SIGUSR1 makes it read at once.
const slowClient = `
use strict; use Socket qw(:all);
my ($port, $path) = @ARGV; my $pause = 0.05;
$SIG{USR1} = sub { $pause = 0 };
socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
setsockopt($s, SOL_SOCKET, SO_RCVBUF, pack('i', 4096)) or die "SO_RCVBUF: $!";
setsockopt($s, IPPROTO_TCP, TCP_MAXSEG, pack('i', 1460)) or die "TCP_MAXSEG: $!";
connect($s, pack_sockaddr_in($port, inet_aton('127.0.0.1'))) or die "connect: $!";
syswrite($s, "GET $path HTTP/1.1\\r\\nhost: test\\r\\nconnection: close\\r\\n\\r\\n");
$| = 1; my $total = 0;
while (1) {
  my $n = sysread($s, my $buf, 1024);
  next if !defined $n && $!{EINTR};
  last if !$n;
  $total += $n; print "$total\\n";
  select(undef, undef, undef, $pause) if $pause;
}
`

/** A client that reads a response at 20 KiB/s through a small receive buffer. */
class SlowReader {
  readonly #child: ChildProcess
  /** Bytes received so far, head included. */
  received = 0
  /** Resolves when the client has read the whole response and the connection closed. */
  readonly done: Promise<unknown>

  constructor(t: TestContext, url: string, path: string) {
    this.#child = spawn('perl', ['-e', slowClient, new URL(url).port, path], { stdio: ['ignore', 'pipe', 'inherit'] })
    this.#child.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString()
      const last = text.lastIndexOf('\n', text.length - 2)
      this.received = Number(text.slice(last + 1))
    })
    this.done = once(this.#child, 'exit')
    t.after(() => this.#child.kill())
  }

  /** Reads the rest as fast as it comes. */
  hurry(): void {
    this.#child.kill('SIGUSR1')
  }

  /** Goes away mid-response: the connection closes. */
  abort(): void {
    this.#child.kill('SIGKILL')
  }
}

/**
 * A backend that serves 2 MiB on `/big` and `second` on any other path. `/big` sends its head at
 * once and its body when `send()` is called; the backend notes when it has written the whole body
 * and when the second request arrives.
 */
async function bigBackend(t: TestContext) {
  let arrived!: () => void
  let finished!: () => void
  let secondArrived!: () => void
  let sendBody!: () => void
  const go = new Promise<void>((r) => (sendBody = r))
  const events = {
    bigArrived: new Promise<void>((r) => (arrived = r)),
    bigFinished: new Promise<void>((r) => (finished = r)),
    secondArrived: new Promise<void>((r) => (secondArrived = r)),
    finishedAt: 0,
    secondAt: 0,
    send: () => sendBody(),
  }
  const backend = await startBackend(t, 'a', (req, res) => {
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
      res.flushHeaders()
      arrived()
      void go.then(() =>
        res.end(body, () => {
          events.finishedAt = performance.now()
          finished()
        }),
      )
      return
    }
    events.secondAt = performance.now()
    secondArrived()
    res.end('second')
  })
  return { backend, events }
}

async function proxyFor(t: TestContext, address: string, buffering?: object) {
  return startPortico(t, {
    // One connection: a second request reaches the backend only once the first one releases it.
    pools: { web: { servers: [address], keepalive: { max_connections: 1 } } },
    routes: [{ pool: 'web', ...(buffering ? { buffering } : {}) }],
  })
}

/**
 * Starts a second request while `/big` holds the only backend connection, and resolves once
 * Portico has it waiting for that connection: its arrival then marks the moment of release.
 */
async function queueSecond(proxy: Awaited<ReturnType<typeof proxyFor>>) {
  const second = get(`${proxy.url}/second`)
  const server = proxy.plan().pools.get('web')!.servers[0]!
  await until(() => server.state.inFlight === 2)
  // Wrapped, or awaiting this function would wait for the second response itself.
  return { second }
}

test('a buffered route frees the backend at once after its last byte while a slow client still reads', async (t) => {
  const { backend, events } = await bigBackend(t)
  const proxy = await proxyFor(t, backend.address, { response: { memory: '512KiB', disk: '16MiB' } })
  const client = new SlowReader(t, proxy.url, '/big')
  await events.bigArrived
  const { second } = await queueSecond(proxy)
  events.send()
  await events.secondArrived
  await events.bigFinished
  const heldFor = events.secondAt - events.finishedAt
  // Unbuffered, the backend stays held for the 100 s the client needs to read 2 MiB; 5 s leaves room
  // for a machine loaded many times over, and is still far from what an unbuffered route does.
  assert.ok(heldFor < 5000, `the backend was held ${heldFor.toFixed(1)} ms after its last byte`)
  assert.ok(client.received < body.length / 2, `the slow client had already read ${client.received} bytes`)
  assert.equal((await second).body, 'second')
  // The held response still reaches the client whole, from memory and the temporary file.
  client.hurry()
  await client.done
  assert.ok(client.received > body.length, `the client got ${client.received} bytes`)
})

test('an unbuffered route holds the backend until the slow client has read the response', async (t) => {
  const { backend, events } = await bigBackend(t)
  const proxy = await proxyFor(t, backend.address)
  const client = new SlowReader(t, proxy.url, '/big')
  let arrivedWith = -1
  void events.secondArrived.then(() => (arrivedWith = client.received))
  await events.bigArrived
  const { second } = await queueSecond(proxy)
  events.send()
  // On this route the backend can finish writing only into socket buffers; it is held all the same.
  await events.bigFinished
  // One second at 20 KiB/s: the backend is still held.
  await new Promise((r) => setTimeout(r, 1000))
  assert.equal(arrivedWith, -1, 'the second request reached the backend while the slow client was reading')
  client.hurry()
  await events.secondArrived
  assert.ok(arrivedWith > body.length / 2, `the backend was freed when the client had read only ${arrivedWith} bytes`)
  assert.equal((await second).body, 'second')
})

/** The paths of this process's open files inside `dir` (unlinked files show as "(deleted)"). */
function openFilesIn(dir: string): string[] {
  const open: string[] = []
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`)
      if (target.startsWith(`${dir}/`)) open.push(target)
    } catch {
      // Closed between the listing and the read.
    }
  }
  return open
}

/** Resolves once `condition()` holds, checking after each turn of the event loop; rejects after `ms`. */
async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'portico-buffer-test-'))
  removeWhenDone(t, dir)
  return dir
}

test('no temporary file is left behind after clients abort mid-response', async (t) => {
  const dir = tempDir(t)
  let finished = 0
  let allFinished!: () => void
  const three = new Promise<void>((r) => (allFinished = r))
  const backend = await startBackend(t, 'a', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
    res.end(body, () => ++finished === 3 && allFinished())
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', buffering: { response: { memory: '64KiB', disk: '16MiB' }, temp_dir: dir } }],
  })
  const clients = [1, 2, 3].map(() => new SlowReader(t, proxy.url, '/big'))
  await three
  // Each exchange spilled to a file that has no name once its creation has settled.
  await until(() => openFilesIn(dir).length === 3 && readdirSync(dir).length === 0)
  for (const c of clients) c.abort()
  await until(() => openFilesIn(dir).length === 0)
  assert.deepEqual(readdirSync(dir), [])
})

test('no temporary file is left behind when Portico shuts down mid-response', async (t) => {
  const dir = tempDir(t)
  const { backend, events } = await bigBackend(t)
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', buffering: { response: { memory: '64KiB' }, temp_dir: dir } }],
  })
  new SlowReader(t, proxy.url, '/big')
  events.send()
  await events.bigFinished
  await until(() => openFilesIn(dir).length === 1)
  await proxy.close(0)
  await until(() => openFilesIn(dir).length === 0)
  assert.deepEqual(readdirSync(dir), [])
})

test('no temporary file is left behind when the backend fails mid-response', async (t) => {
  const dir = tempDir(t)
  let fail!: () => void
  const failing = new Promise<void>((r) => (fail = r))
  const backend = await startBackend(t, 'a', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
    res.write(body.subarray(0, MiB))
    void failing.then(() => res.socket?.destroy())
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', buffering: { response: { memory: '64KiB' }, temp_dir: dir } }],
  })
  const client = new SlowReader(t, proxy.url, '/big')
  await until(() => openFilesIn(dir).length === 1)
  fail()
  await until(() => openFilesIn(dir).length === 0)
  assert.deepEqual(readdirSync(dir), [])
  // The client sees a cut response, never a short one presented as complete.
  client.hurry()
  await client.done
  assert.ok(client.received < body.length, `the client got ${client.received} bytes`)
})

test('a slow upload on a request-buffered route reaches the backend whole, in one burst', async (t) => {
  let arrived = 0
  let seen: { length: string | undefined; body: Buffer; ms: number } | undefined
  const backend = await startBackend(t, 'a', (req, res) => {
    arrived = performance.now()
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      seen = { length: req.headers['content-length'], body: Buffer.concat(chunks), ms: performance.now() - arrived }
      res.end('stored')
    })
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', buffering: { request: {} } }],
  })
  const upload = Buffer.alloc(40 * 1024, 'u')
  const req = httpRequest(`${proxy.url}/upload`, { method: 'POST', agent: false })
  const reply = once(req, 'response')
  // Ten 4 KiB chunks, 30 ms apart, sent chunked: a slow client with a body of unknown length.
  let lastWrite = 0
  for (let i = 0; i < 10; i++) {
    req.write(upload.subarray(i * 4096, (i + 1) * 4096))
    lastWrite = performance.now()
    await new Promise((r) => setTimeout(r, 30))
  }
  req.end()
  const [res] = (await reply) as [import('node:http').IncomingMessage]
  res.resume()
  assert.equal(res.statusCode, 200)
  assert.ok(arrived >= lastWrite, 'the backend saw the request before the client had sent all of it')
  assert.deepEqual(seen!.body, upload)
  assert.equal(seen!.length, String(upload.length))
  assert.ok(seen!.ms < 50, `the body took ${seen!.ms.toFixed(1)} ms to reach the backend`)
})

/** Two servers: the first drops the connection after reading a PUT body, the second echoes it. */
async function flakyPair(t: TestContext) {
  const dropper = await startBackend(t, 'a', (req) => {
    req.resume()
    req.on('end', () => req.socket.destroy())
  })
  const echo = await startBackend(t, 'b', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => res.end(Buffer.concat(chunks)))
  })
  return [dropper.address, echo.address]
}

test('a buffered request body is sent again, whole, to another server after a reset', async (t) => {
  const dir = tempDir(t)
  const proxy = await startPortico(t, {
    pools: { web: { servers: await flakyPair(t) } },
    // A small memory limit: the body goes to a temporary file, read once per attempt.
    routes: [{ pool: 'web', buffering: { request: { memory: '1KiB' }, temp_dir: dir } }],
  })
  const upload = Buffer.alloc(200 * 1024)
  for (let i = 0; i < upload.length; i++) upload[i] = i % 251
  const reply = await request(proxy.url, { method: 'PUT', body: upload })
  assert.equal(reply.status, 200)
  assert.equal(reply.body, upload.toString())
})

test('without request buffering, a body already sent is not retried', async (t) => {
  const proxy = await startPortico(t, {
    pools: { web: { servers: await flakyPair(t) } },
    routes: [{ pool: 'web' }],
  })
  const reply = await request(proxy.url, { method: 'PUT', body: Buffer.alloc(200 * 1024, 'x') })
  assert.equal(reply.status, 502)
})

test('a request body beyond the buffering limit gets 413 and never reaches a backend', async (t) => {
  let reached = false
  const backend = await startBackend(t, 'a', (_req, res) => {
    reached = true
    res.end()
  })
  const proxy = await startPortico(t, {
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web', buffering: { request: { memory: '1KiB', disk: '64KiB' }, temp_dir: tempDir(t) } }],
  })
  const declared = await request(proxy.url, { method: 'POST', body: Buffer.alloc(100 * 1024) })
  assert.equal(declared.status, 413)
  const chunked = await rawHttp(
    proxy.url,
    `POST / HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n${'10000\r\n'}${'x'.repeat(0x10000)}\r\n10000\r\n${'x'.repeat(0x10000)}\r\n0\r\n\r\n`,
    300,
  )
  assert.match(chunked, /^HTTP\/1\.1 413 /)
  assert.equal(reached, false)
})

test('the access log says what was buffered and how long the backend was held', async (t) => {
  const dir = tempDir(t)
  const log = accessLogFile(t)
  const plainLog = accessLogFile(t)
  // A short answer: a long one may spill too, as much as the client is slower than the backend.
  const backend = await startBackend(t, 'a', (req, res) => {
    req.resume()
    req.on('end', () => res.end('ok'))
  })
  const proxy = await startPortico(t, {
    access_log: { output: log, format: 'json' },
    pools: { web: { servers: [backend.address] } },
    // The request body is larger than memory allows, so it goes to a temporary file.
    routes: [{ pool: 'web', buffering: { request: { memory: '1KiB' }, response: {}, temp_dir: dir } }],
  })
  const plain = await startPortico(t, {
    access_log: { output: plainLog, format: 'json' },
    pools: { web: { servers: [backend.address] } },
    routes: [{ pool: 'web' }],
  })
  assert.equal((await request(proxy.url, { method: 'POST', body: Buffer.alloc(10_000) })).status, 200)
  assert.equal((await get(plain.url)).status, 200)
  const [line] = await readLogRecords(proxy, log)
  assert.equal(line.buffered, 'request,response')
  assert.equal(line.spilled_bytes, 10_000)
  assert.equal(typeof line.backend_held_ms, 'number')
  const [plainLine] = await readLogRecords(plain, plainLog)
  assert.equal(plainLine.buffered, undefined)
  assert.equal(typeof plainLine.backend_held_ms, 'number')
})
