import type { Readable } from 'node:stream'

/**
 * The transport contract: how an attempt sends a request to a server and receives its response,
 * whichever client carries it. Two implement it: Portico's own HTTP/1.1 client (engine/client/)
 * and undici for HTTP/2 (undici-connections.ts). Neither's own types reach the core: forward.ts
 * and the pool see these only.
 */

/** One request to a server, as an attempt sends it. */
export interface OutgoingRequest {
  readonly path: string
  readonly method: string
  /** Flat `[name, value, …]`, written in this order and case. */
  readonly headers: readonly string[]
  /** The body: a stream, its bytes whole, or null for none. */
  readonly body: Readable | Buffer | null
  /**
   * Whether the body stream's chunks are read once and kept by nobody else, so that the transport may free each
   * chunk's memory once it is sent; false or absent for a body whose chunks are kept (a buffered body replays them).
   */
  readonly bodyChunksFree?: boolean
  /** Most milliseconds from sending the request to its response head; 0 or absent for none. */
  readonly headersTimeout?: number
  /** Most milliseconds between two reads of the response body; 0 or absent for none. */
  readonly bodyTimeout?: number
}

/** Response header fields by lower-case name; every field is also in {@link RequestControl.rawHeaders}. */
export type HeaderRecord = Record<string, string | string[] | undefined>

/** How a receiver steers its request, and what the transport knows of it. */
export interface RequestControl {
  /** Stops the request: the receiver hears `onResponseError` with `reason`, unless it already ended. */
  abort(reason: Error): void
  /** Stops reading the response body until {@link resume}: the client reads slower than the server sends. */
  pause(): void
  resume(): void
  /** The response's head fields, flat `[name, value, …]` as received; set from `onResponseStart` on. */
  readonly rawHeaders: readonly (Buffer | string)[] | undefined
  /** The response's trailer fields, flat, when it had any; set from `onResponseEnd` on. */
  readonly rawTrailers: readonly (Buffer | string)[] | undefined
  /**
   * Whether the request went out on a connection that had carried one before (an idle keep-alive
   * connection, which the server may have closed); known from the first response callback on.
   */
  readonly reused: boolean
  /**
   * Whether a byte of the request reached the socket. A request that fails while this is false
   * never reached the server, so it may be sent again whatever its method. A transport that cannot
   * tell says true.
   */
  readonly written: boolean
}

/**
 * What receives a response. `onRequestStart` comes first, once the request has a connection;
 * then informational heads and the final head (`onResponseStart`), body chunks, and one end:
 * `onResponseEnd` or `onResponseError`, after which nothing more comes.
 */
export interface ResponseReceiver {
  onRequestStart?(control: RequestControl): void
  onResponseStart?(control: RequestControl, statusCode: number, headers: HeaderRecord, statusMessage?: string): void
  onResponseData?(control: RequestControl, chunk: Buffer): void
  onResponseEnd?(control: RequestControl, trailers: HeaderRecord): void
  /** `control` is undefined when the request failed before it had one. */
  onResponseError?(control: RequestControl | undefined, error: Error): void
}

/** Connections to one server, as attempts use them. */
export interface ServerConnections {
  /** Sends `request` on a connection, now or once one is free; `receiver` hears its response. */
  dispatch(request: OutgoingRequest, receiver: ResponseReceiver): boolean
  /** Takes no new requests; closes connections once their requests end. */
  close(): Promise<void>
  /** Closes every connection now. */
  destroy(): Promise<void>
  /** Requests on a connection now (`running`) and waiting for one (`pending`, `queued`). */
  readonly stats: { readonly running: number; readonly pending: number; readonly queued: number }
}
