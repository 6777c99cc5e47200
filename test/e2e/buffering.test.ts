import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { startBackend } from '../helpers/backend.ts'
import { get } from '../helpers/http.ts'
import { startPortico } from '../helpers/portico.ts'

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
}

/**
 * A backend with one connection to Portico that serves 2 MiB on `/big` and `second` on any other
 * path; it reports when it has written the whole big body and when the second request arrives.
 */
async function bigBackend(t: TestContext) {
  let finished!: () => void
  let secondArrived!: () => void
  const events = {
    bigFinished: new Promise<void>((r) => (finished = r)),
    secondArrived: new Promise<void>((r) => (secondArrived = r)),
  }
  const backend = await startBackend(t, 'a', (req, res) => {
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
      res.end(body, () => finished())
      return
    }
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

test('a buffered route frees the backend within 100 ms of its last byte while a slow client still reads', async (t) => {
  const { backend, events } = await bigBackend(t)
  const proxy = await proxyFor(t, backend.address, { response: { memory: '512KiB', disk: '16MiB' } })
  const client = new SlowReader(t, proxy.url, '/big')
  await events.bigFinished
  const finishedAt = performance.now()
  const second = get(`${proxy.url}/second`)
  await events.secondArrived
  const heldFor = performance.now() - finishedAt
  assert.ok(heldFor < 100, `the backend was held ${heldFor.toFixed(1)} ms after its last byte`)
  assert.ok(client.received < body.length / 2, `the slow client had already read ${client.received} bytes`)
  assert.equal((await second).body, 'second')
  console.log('buffered', heldFor, client.received)
})

test('an unbuffered route holds the backend until the slow client has read the response', async (t) => {
  const { backend, events } = await bigBackend(t)
  const proxy = await proxyFor(t, backend.address)
  const client = new SlowReader(t, proxy.url, '/big')
  let arrivedWith = -1
  void events.secondArrived.then(() => (arrivedWith = client.received))
  await events.bigFinished
  const second = get(`${proxy.url}/second`)
  // One second at 20 KiB/s: the backend is still held.
  await new Promise((r) => setTimeout(r, 1000))
  const readSoFar = client.received
  assert.equal(arrivedWith, -1, 'the second request reached the backend while the slow client was reading')
  client.hurry()
  await events.secondArrived
  console.log('unbuffered', readSoFar, arrivedWith)
  assert.ok(arrivedWith > body.length / 2, `the backend was freed when the client had read only ${arrivedWith} bytes`)
  assert.equal((await second).body, 'second')
})
