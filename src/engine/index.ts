import type { EventEmitter } from 'node:events'
import { Socket } from 'node:net'
import type { DispatchOptions, ResponseHandler } from './client/call.ts'
import { H1Client } from './client/client.ts'
import type { H1Settings } from './client/connection.ts'
import type { RenderedFields } from './server/head-text.ts'
import { H1Request } from './server/request.ts'
import { H1Response } from './server/response.ts'
import { H1Server, type H1ServerOptions } from './server/server.ts'

/*
 * The HTTP/1.1 engine, and the HTTP/2 request and response on node's stream API, as the rest of Portico sees them: typed interfaces and the functions that make
 * them. Everything else in src/engine/, node internals included, stays behind this file
 * (test/engine/internals.test.ts checks both).
 */

export type { DispatchOptions, HeaderRecord, ResponseHandler } from './client/call.ts'
export type { H1Settings } from './client/connection.ts'
export { compatibilityOff } from './h2/compat-off.ts'
export { type BodyOwner, H2Request } from './h2/request.ts'
export { H2Response } from './h2/response.ts'
export { handOff } from './hand-off.ts'
export { headSentOn } from './head-sent.ts'
export { type Entry, LiveList } from './live-list.ts'
export { relay } from './relay.ts'
export { type RenderedFields, renderFields } from './server/head-text.ts'
export type { H1Response } from './server/response.ts'
export type { H1ServerOptions, H1Timeouts } from './server/server.ts'
export { takeListeners } from './takeover.ts'
export type { H1Request }

/**
 * Writes the head of `res` from fields rendered ahead of time plus `more`, when `res` is Portico's
 * own HTTP/1.1 response; returns false, having done nothing, for any other response.
 */
export function writeRenderedHead(
  res: object,
  status: number,
  rendered: RenderedFields,
  more: readonly string[],
): boolean {
  if (!(res instanceof H1Response)) return false
  res.writeRenderedHead(status, rendered, more)
  return true
}

/** Portico's own HTTP/1.1 server, as a listener drives it. */
export interface OwnServer {
  /**
   * Its link in the connection chain: given the way to node's HTTP/1.1 server, the function that
   * takes each connection; node's server gets a connection at its first request not served here.
   */
  readonly link: (serveNode: (socket: Socket) => void) => (socket: Socket) => void
  /**
   * Closes every connection once its response is done, with `Connection: close`, and each one idle
   * for the `drain_idle` time gracefully, after the event loop's next poll.
   */
  drain(): void
  /** Makes every connection open now close after its next response, which says `Connection: close`. */
  retire(): void
  /** Stops checking deadlines: the listener is closed. */
  stop(): void
}

/**
 * Makes Portico's own HTTP/1.1 server in front of `node`, node's HTTP/1.1 server, which hears a
 * 'clientError' when a head deadline passes. It takes connections only through its `link`.
 */
export function ownServer(node: EventEmitter, options: H1ServerOptions): OwnServer {
  return new H1Server(node, options)
}

/** Keep-alive HTTP/1.1 connections to one server: one implementation of upstream's transport contract. */
export interface H1Connections {
  /** Sends a request; `handler` hears of its response or its failure, never synchronously of a failure to start. */
  dispatch(request: DispatchOptions, handler: ResponseHandler): boolean
  /** Takes no new requests; closes connections once their requests end. */
  close(): Promise<void>
  /** Closes every connection now. */
  destroy(): Promise<void>
  /** Requests on a connection now (`running`) and waiting for one (`pending`, `queued`). */
  readonly stats: { readonly running: number; readonly pending: number; readonly queued: number }
}

/**
 * Opens up to `maxConnections` keep-alive connections to one server as requests need them; with
 * `once`, each connection carries one request and closes.
 */
export function h1Connections(settings: H1Settings, maxConnections: number, once = false): H1Connections {
  return new H1Client(settings, maxConnections, once)
}

/**
 * A bodyless HTTP/1.1 request of Portico's own, as its server reads one, on a socket that is never
 * connected: for requests no client sent (a cache's background refresh). Nothing is read from it.
 */
export function bodylessRequest(method: string, url: string, rawHeaders: string[]): H1Request {
  return new H1Request(new Socket(), method, url, rawHeaders)
}
