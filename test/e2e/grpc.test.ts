import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { type TestContext, test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { TestCa } from '../helpers/certs.ts'
import { startPortico } from '../helpers/portico.ts'

// Messages are raw bytes: the proxy never looks inside them, so no .proto is needed.
const bytes = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b }
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: bytes.serialize,
  requestDeserialize: bytes.deserialize,
  responseSerialize: bytes.serialize,
  responseDeserialize: bytes.deserialize,
})
const service = {
  echo: method('Echo', false, false),
  fail: method('Fail', false, false),
  chat: method('Chat', true, true),
} satisfies grpc.ServiceDefinition

type Unary = grpc.handleUnaryCall<Buffer, Buffer>

/** A gRPC server (h2c) on a free port that echoes, fails on purpose, and chats. */
async function startGrpcBackend(t: TestContext): Promise<string> {
  const server = new grpc.Server()
  const echo: Unary = (call, done) => {
    const trailer = new grpc.Metadata()
    trailer.set('x-trailer', 'from-backend')
    done(null, Buffer.concat([Buffer.from(`echo(${call.metadata.get('x-caller')[0]}):`), call.request]), trailer)
  }
  const fail: Unary = (_call, done) => done({ code: grpc.status.NOT_FOUND, details: 'no such thing' })
  const chat: grpc.handleBidiStreamingCall<Buffer, Buffer> = (call) => {
    call.on('data', (m: Buffer) => call.write(Buffer.from(`re:${m}`)))
    call.on('end', () => call.end())
  }
  server.addService(service, { echo, fail, chat })
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  )
  t.after(() => server.forceShutdown())
  return `127.0.0.1:${port}`
}

/** Portico with a TLS listener in front of `backend` (pool protocol h2), and a gRPC client to it. */
async function throughPortico(t: TestContext, backend: string) {
  const ca = new TestCa(t)
  const site = ca.issue('grpc.test', ['grpc.test'])
  const proxy = await startPortico(t, {
    listeners: [{ address: '127.0.0.1:0', tls: { certificates: [site] } }],
    pools: { grpc: { servers: [backend], protocol: 'h2' } },
    routes: [{ pool: 'grpc' }],
  })
  const Client = grpc.makeGenericClientConstructor(service, 'Echo')
  const client = new Client(new URL(proxy.url).host, grpc.credentials.createSsl(readFileSync(ca.cert)), {
    'grpc.ssl_target_name_override': 'grpc.test',
    'grpc.default_authority': 'grpc.test',
  }) as grpc.Client & Record<string, (...args: unknown[]) => unknown>
  t.after(() => client.close())
  return client
}

test('a gRPC unary call passes through Portico with metadata, status and trailers', async (t) => {
  const client = await throughPortico(t, await startGrpcBackend(t))
  const metadata = new grpc.Metadata()
  metadata.set('x-caller', 'test')
  let trailers: grpc.Metadata | undefined
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const call = client.echo(Buffer.from('ping'), metadata, (err: Error | null, r: Buffer) =>
      err ? reject(err) : resolve(r),
    )
    ;(call as grpc.ClientUnaryCall).on('status', (s: grpc.StatusObject) => (trailers = s.metadata))
  })
  assert.equal(reply.toString(), 'echo(test):ping')
  assert.equal(trailers?.get('x-trailer')[0], 'from-backend')

  const failure = await new Promise<grpc.ServiceError>((resolve) =>
    client.fail(Buffer.from('x'), (err: grpc.ServiceError) => resolve(err)),
  )
  assert.equal(failure.code, grpc.status.NOT_FOUND, failure.details)
  assert.equal(failure.details, 'no such thing')
})

test('a gRPC bidirectional stream passes through Portico message by message', async (t) => {
  const client = await throughPortico(t, await startGrpcBackend(t))
  const call = client.chat() as grpc.ClientDuplexStream<Buffer, Buffer>
  const replies: string[] = []
  // Each reply comes back before the next message is sent: nothing waits for the stream to end.
  for (const word of ['one', 'two', 'three']) {
    call.write(Buffer.from(word))
    const [m] = (await once(call, 'data')) as [Buffer]
    replies.push(m.toString())
  }
  call.end()
  const [status] = (await once(call, 'status')) as [grpc.StatusObject]
  assert.deepEqual(replies, ['re:one', 're:two', 're:three'])
  assert.equal(status.code, grpc.status.OK)
})
