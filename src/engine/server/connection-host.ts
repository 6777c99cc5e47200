import type { H1Connection } from './connection.ts'
import type { H1Request } from './request.ts'
import type { H1Response } from './response.ts'

/** What a connection asks of the server that accepted it. */
export interface ConnectionHost {
  /** The longest request head, in bytes. */
  readonly maxHeaderBytes: number
  readonly headersTimeoutMs: () => number
  /** Time a client has to send a whole request, body included, from its first byte. */
  readonly requestTimeoutMs: () => number
  readonly keepAliveIdleMs: () => number
  /** Serves a request this server read. */
  request(req: H1Request, res: H1Response): void
  /** Whether the listener drains: a connection closes once its response is done. */
  readonly draining: boolean
  /** Gives the connection to node's HTTP/1.1 server, which reads `pending` first. */
  handOff(connection: H1Connection, pending: Buffer | undefined): void
  /**
   * A request did not come whole (`ERR_HTTP_REQUEST_TIMEOUT`: not in time; `HPE_INVALID_EOF_STATE`:
   * the client ended its side mid-body): node's 'clientError', as its own server would raise it.
   */
  clientError(connection: H1Connection, code: ClientErrorCode): void
  /** The connection closed. */
  closed(connection: H1Connection): void
}

/** The codes of node's server for a request that did not come whole. */
export type ClientErrorCode = 'ERR_HTTP_REQUEST_TIMEOUT' | 'HPE_INVALID_EOF_STATE'
