import { once } from 'node:events'
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import { connect, type Socket } from 'node:net'

/** A whole response as a client saw it. */
export interface Reply {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly rawHeaders: string[]
  readonly body: string
  /** Trailer fields after a chunked body; empty when none came. */
  readonly trailers: NodeJS.Dict<string>
}

/** Options for `request`: method, headers (an object, or a flat raw list to keep case and order), body. */
export interface RequestOptions {
  readonly method?: string
  readonly headers?: OutgoingHttpHeaders | string[]
  readonly body?: string | Buffer
}

/** One request on a fresh connection; resolves with the whole response. */
export function request(url: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks).toString(),
          trailers: res.trailers,
        }),
      )
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/** A GET on a fresh connection. */
export function get(url: string, headers?: OutgoingHttpHeaders): Promise<Reply> {
  return request(url, { headers })
}

/**
 * Sends raw bytes on a new TCP connection and resolves with everything received until the server
 * closes the connection or `idleMs` passes without a byte (for requests a normal client cannot send).
 */
export function rawHttp(url: string, bytes: string | Buffer, idleMs = 1000): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    socket.setTimeout(idleMs, () => socket.destroy())
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)))
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
    socket.write(bytes)
  })
}

/** A raw TCP connection that keeps what it receives, for clients that misbehave over time. */
export interface RawConnection {
  readonly socket: Socket
  /** Everything received so far, as latin1 text. */
  readonly text: string
  /** Resolves with everything received once the connection has closed. */
  readonly closed: Promise<string>
}

/** Opens a raw TCP connection to the host and port of `url`; errors end it like a close. */
export function rawConnection(url: string): RawConnection {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  let text = ''
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')))
  socket.on('error', () => {})
  const closed = once(socket, 'close').then(() => text)
  return {
    socket,
    get text() {
      return text
    },
    closed,
  }
}
