import proxy from '@fastify/http-proxy'
import Fastify from 'fastify'

/**
 * @fastify/http-proxy in front of `--origin` (HTTP) and `--ws` (WebSocket), as its README sets it
 * up, logging off. Prints its port as one JSON line on stdout.
 */
const [origin, ws] = process.argv.slice(2)
const app = Fastify({ logger: false, keepAliveTimeout: 60_000, bodyLimit: 10 * 1024 * 1024 })
await app.register(proxy, { upstream: `ws://${ws}`, prefix: '/ws', rewritePrefix: '/ws', websocket: true })
await app.register(proxy, { upstream: `http://${origin}` })
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`)
