import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttps } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { AdminConfig } from '../config/admin-schema.ts'
import type { EventLog } from '../log/events.ts'
import { splitAddress } from '../values/address.ts'
import { AdminError } from './admin-error.ts'
import type { AdminAnswer, AdminRoutes } from './routes.ts'
import type { Tokens } from './tokens.ts'

/** Largest request body the admin API reads (a config to validate). */
const maxBodyBytes = 4 * 1024 * 1024

/** A running admin listener. */
export interface AdminServer {
  /** `http://host:port` or `https://…`, as bound. */
  readonly url: string
  close(): Promise<void>
}

/**
 * Starts the admin listener: HTTP, or HTTPS with optional client certificates; every call but
 * the open ones needs a bearer token when tokens are set (401 without one, in constant time).
 * Answers JSON; a refusal is `{ "error": "…" }` with its status.
 */
export async function startAdminServer(
  config: AdminConfig,
  tokens: Tokens,
  routes: AdminRoutes,
  events: EventLog,
): Promise<AdminServer> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void serve(req, res, tokens, routes).catch((err) => {
      events.error('admin API failed', { error: (err as Error).message })
      if (!res.headersSent) send(res, { status: 500, body: { error: 'internal error' } })
      else res.destroy()
    })
  }
  const tls = config.tls
  const server: Server = tls
    ? createHttps(
        {
          cert: readFileSync(tls.cert),
          key: readFileSync(tls.key),
          ...(tls.client_ca ? { ca: readFileSync(tls.client_ca), requestCert: true, rejectUnauthorized: true } : {}),
        },
        handler,
      )
    : createHttp(handler)
  const { host, port } = splitAddress(config.address)!
  server.listen(port, host)
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw new Error(`admin listener ${config.address}: ${(err as Error).message}`)
    }),
  ])
  const bound = server.address() as AddressInfo
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
  return {
    url: `${tls ? 'https' : 'http'}://${shown}:${bound.port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function serve(req: IncomingMessage, res: ServerResponse, tokens: Tokens, routes: AdminRoutes): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin')
  const { route, params, allowed } = routes.find(req.method ?? 'GET', url.pathname)
  if (!route) {
    req.resume()
    if (allowed.length > 0) res.setHeader('allow', allowed.join(', '))
    return send(res, { status: allowed.length > 0 ? 405 : 404, body: { error: 'no such API call' } })
  }
  let who = 'local'
  if (tokens.required && !route.open) {
    const holder = tokens.holder(req.headers.authorization)
    if (holder === undefined) {
      req.resume()
      res.setHeader('www-authenticate', 'Bearer')
      return send(res, { status: 401, body: { error: 'a valid bearer token is needed' } })
    }
    who = holder
  }
  const body = await readBody(req)
  if (body === undefined) return send(res, { status: 413, body: { error: `body over ${maxBodyBytes} bytes` } })
  let answer: AdminAnswer
  try {
    answer = await route.handler({ req, params, query: url.searchParams, body, who })
  } catch (err) {
    if (!(err instanceof AdminError)) throw err
    answer = { status: err.status, body: { error: err.message } }
  }
  send(res, answer)
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBodyBytes) return undefined
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function send(res: ServerResponse, answer: AdminAnswer): void {
  if (answer.stream) {
    res.writeHead(answer.status, { ...answer.headers, 'content-type': answer.type!, 'cache-control': 'no-store' })
    answer.stream(res)
    return
  }
  const text = answer.type ? String(answer.body) : `${JSON.stringify(answer.body, null, 2)}\n`
  res.writeHead(answer.status, {
    'content-type': answer.type ?? 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...answer.headers,
  })
  res.end(text)
}
