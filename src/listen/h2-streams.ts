import type { Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2'
import { H2Request, H2Response } from '../engine/index.ts'
import { ignore } from '../errors.ts'
import type { ClientRequest, ClientResponse } from '../exchange.ts'

/**
 * Serves the streams of one HTTP/2 connection through node's stream API: each stream becomes an
 * {@link H2Request} and {@link H2Response} for `serve` (the listener's request handler), without
 * node's compatibility objects. `onReset` hears every stream the client cuts (the rapid reset
 * guard). A request that expects anything but `100-continue` is answered 417 here, as node's
 * servers answer it (RFC 9110 §10.1.1). Call once per session.
 */
export function serveStreams(
  session: Http2Session,
  serve: (req: ClientRequest, res: ClientResponse) => void,
  onReset: () => void,
): void {
  // node's proxy of the connection's socket, one per session: every request on it shares it.
  const socket = session.socket
  session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
    // A stream's errors (a reset, a lost connection) end its exchange through 'close'; unheard, they would throw.
    stream.on('error', ignore)
    stream.on('aborted', onReset)
    const expect = headers.expect
    if (expect !== undefined && expect.toLowerCase() !== '100-continue') {
      stream.respond(expectationFailed, { endStream: true })
      return
    }
    serve(new H2Request(stream, headers, raw, socket), new H2Response(stream))
  })
}

const expectationFailed = { ':status': 417 }
