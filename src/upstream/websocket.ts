import type { ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Exchange } from '../exchange.ts'
import { backendRequestHeaders } from '../http/proxy-headers.ts'
import { respondError } from '../respond.ts'
import { classify } from './classify.ts'
import type { Pool } from './pool.ts'

/** Sockets of open tunnels, so that shutdown can close them after its grace period. */
export type TunnelSet = Set<Duplex>

/**
 * Tunnels an `Upgrade` request (WebSocket) to a server of `pool` over a raw socket. Until the
 * backend connection is open, failures are answered like any other (502, 504, 503); after that,
 * bytes pass both ways untouched, either side closing closes the other, and a tunnel idle for
 * `idleMs` is closed. `done` runs once when the tunnel is gone.
 */
export function tunnel(
  x: Exchange,
  pool: Pool,
  head: Buffer,
  idleMs: number,
  tunnels: TunnelSet,
  done: () => void,
): void {
  x.pool = pool
  const server = pool.pick(x, undefined)
  if (!server) {
    respondError(x, 'no_server')
    return
  }
  x.server = server
  x.attempts = 1
  const client = x.req.socket
  const backend = connect({ host: server.host, port: server.port })
  const sentAt = performance.now()
  let open = true
  const close = () => {
    if (!open) return
    open = false
    clearTimeout(connectTimer)
    tunnels.delete(client)
    client.destroy()
    backend.destroy()
    pool.release(server, { ok: x.outcome === 'ok' })
    done()
  }
  const connectTimer = setTimeout(() => fail('connect_timeout'), pool.timeouts.connectMs)
  const fail = (code: Parameters<typeof respondError>[1]) => {
    if (!open) return
    respondError(x, code)
    if (x.res.socket) {
      // The error answer has been handed to the socket: close once it is written.
      x.res.once('finish', close)
      backend.destroy()
      return
    }
    close()
  }
  backend.on('error', (err) => (connected ? close() : fail(classify(err))))
  client.on('error', close)
  client.on('close', close)
  backend.on('close', close)
  tunnels.add(client)
  let connected = false
  backend.once('connect', () => {
    connected = true
    clearTimeout(connectTimer)
    x.backendMs = performance.now() - sentAt
    x.status = 101
    // Upgrades come only from HTTP/1.1 connections, whose responses are node:http ones.
    ;(x.res as ServerResponse).detachSocket(client as Socket)
    const headers = backendRequestHeaders(x, pool.hostHeader)
    let text = `${x.req.method} ${x.path} HTTP/1.1\r\n`
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`
    text += `connection: upgrade\r\nupgrade: ${x.req.headers.upgrade}\r\n\r\n`
    backend.write(text)
    if (head.length > 0) backend.write(head)
    backend.setTimeout(idleMs, close)
    client.setTimeout(idleMs, close)
    backend.on('data', (chunk: Buffer) => {
      x.bytesOut += chunk.length
    })
    client.on('data', (chunk: Buffer) => {
      x.bytesIn += chunk.length
    })
    backend.pipe(client)
    client.pipe(backend)
  })
}
