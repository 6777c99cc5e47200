import type { ServerHttp2Stream } from 'node:http2'
import { mayBeNamed, nameLengths } from '../../http/name-lengths.ts'

/**
 * The response to an {@link H2Request}, through node's stream API: the head goes out with
 * `stream.respond()` as one flat list, and the body is written to the stream itself (the
 * exchange's `responseStream`), so this object holds only the head, the trailers and the events.
 * Trailers go out only when {@link trailersMayFollow} was set before the head: only then does the
 * stream wait for them at its end, which costs every other response an extra frame and event.
 * Its events are the stream's: 'close' once the stream is closed, 'drain' and 'finish' as its writes go.
 */
export class H2Response {
  readonly stream: ServerHttp2Stream
  statusCode = 200
  /** Set before the head when trailers may be added: the stream then ends with them (or an empty DATA frame). */
  trailersMayFollow = false
  #trailers: Record<string, string> | undefined = undefined

  constructor(stream: ServerHttp2Stream) {
    this.stream = stream
  }

  get headersSent(): boolean {
    return this.stream.headersSent
  }

  get destroyed(): boolean {
    return this.stream.destroyed
  }

  get writableFinished(): boolean {
    return this.stream.writableFinished
  }

  /**
   * Sends the response head: `fields` as a flat `[name, value, …]` list or an object, less the
   * connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2), which node would refuse. The list
   * goes to node as a copy, since node adds to it and response phases may keep theirs (the cache
   * stores it). Nothing is sent on a stream already closed. HEAD, 204, 205 and 304 responses end
   * with their head.
   */
  writeHead(status: number, fields?: readonly string[] | Readonly<Record<string, string | number>>): this {
    this.statusCode = status
    const stream = this.stream
    if (stream.destroyed || stream.closed) return this
    const list: string[] = []
    if (Array.isArray(fields)) {
      for (let i = 0; i < fields.length; i += 2) {
        const name = fields[i]!
        const value = fields[i + 1]!
        if (!connectionSpecific(name, value)) list.push(name, value)
      }
    } else {
      const record = fields as Readonly<Record<string, string | number>> | undefined
      for (const name in record) {
        const value = String(record[name])
        if (!connectionSpecific(name, value)) list.push(name, value)
      }
    }
    list.push(':status', String(status))
    if (this.trailersMayFollow) {
      stream.once('wantTrailers', () => stream.sendTrailers(this.#trailers ?? {}))
      stream.respond(list, waitForTrailers)
    } else stream.respond(list)
    return this
  }

  /** Trailers for the end of the body; dropped unless {@link trailersMayFollow} was set before the head. */
  addTrailers(trailers: Record<string, string>): void {
    this.#trailers = { ...this.#trailers, ...trailers }
  }

  /** Sends 100 Continue: the client may send its body (RFC 9110 §15.2.1). */
  writeContinue(): void {
    const stream = this.stream
    if (!stream.headersSent && !stream.destroyed && !stream.closed) stream.additionalHeaders({ ':status': 100 })
  }

  /** Resets the stream, unless it is complete already; the connection's other streams go on. */
  destroy(): this {
    this.stream.destroy()
    return this
  }

  on(event: 'close' | 'drain' | 'finish', listener: () => void): this {
    this.stream.on(event, listener)
    return this
  }

  once(event: 'close' | 'drain' | 'finish', listener: () => void): this {
    this.stream.once(event, listener)
    return this
  }

  off(event: 'close' | 'drain' | 'finish', listener: () => void): this {
    this.stream.off(event, listener)
    return this
  }
}

const waitForTrailers = { waitForTrailers: true }

// Fields that belong to one HTTP/1.1 connection; an HTTP/2 message must not carry them (RFC 9113 §8.2.2).
const connectionFields = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'])
const connectionLengths = nameLengths([...connectionFields, 'te'])

/** Whether a field belongs to one HTTP/1.1 connection only; `TE: trailers` is the one TE that HTTP/2 allows. */
function connectionSpecific(name: string, value: string): boolean {
  if (!mayBeNamed(connectionLengths, name)) return false
  const lower = name.toLowerCase()
  return connectionFields.has(lower) || (lower === 'te' && value.trim().toLowerCase() !== 'trailers')
}
