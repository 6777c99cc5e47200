import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { headSentOn } from '../engine/index.ts'
import { type FailureCode, failures } from '../errors.ts'
import { newRequestId } from '../http/request-id.ts'
import type { AccessLog } from '../log/access.ts'
import { rawAnswer } from './raw-answer.ts'

// Node's codes for requests its parser refuses; anything else malformed is a plain 400.
const codes: Readonly<Record<string, FailureCode>> = {
  HPE_HEADER_OVERFLOW: 'header_too_large',
  ERR_HTTP_REQUEST_TIMEOUT: 'client_timeout',
}

/**
 * Answers a request that Node's parser refused (malformed, head too large, too slow) with the
 * catalogue's status, a short plain body and a request id, logs that answer, and closes the
 * connection, since after a parse error nothing more on it can be trusted (RFC 9112 §11.2). An
 * exchange in flight on the connection (a body too slow for `timeouts.request`) also ends, as
 * `client_aborted`, in its own line. A connection the client reset, or whose response head is
 * already out, is closed without a word: a status line there would corrupt that response.
 * The answer is written raw (raw-answer.ts): before a request exists there is no exchange, no
 * route and no response phases to run.
 */
export function clientError(err: NodeJS.ErrnoException, socket: Duplex, log: AccessLog): void {
  if (err.code === 'ECONNRESET' || !socket.writable || headSentOn(socket)) {
    socket.destroy()
    return
  }
  const code = codes[err.code ?? ''] ?? 'bad_request'
  const failure = failures[code]
  const id = newRequestId()
  const body = `${failure.text}\n`
  rawAnswer(socket, failure.status, failure.text, ['content-type', 'text/plain; charset=utf-8'], body, id)
  log.reject({ id, client: (socket as Socket).remoteAddress ?? '', status: failure.status, outcome: code })
  // A body too slow for `timeouts.request` may be one Portico stopped reading, as its backend
  // does not read it: the client's close is then never read, and the exchange would wait for the
  // backend's timeouts. The connection closes once the answer had a moment to reach the client.
  if (code === 'client_timeout') setTimeout(() => socket.destroy(), timeoutLingerMs).unref()
}

// How long a connection answered 408 stays open for the client to read the answer.
const timeoutLingerMs = 1000
