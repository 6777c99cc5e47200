// gRPC's status fields, which a Trailers-Only response carries in its head.
const grpcStatusFields = new Set(['grpc-status', 'grpc-message', 'grpc-status-details-bin'])

/**
 * Takes gRPC status fields out of a response head bound for an HTTP/2 client and returns them, to
 * be sent as trailers; undefined when there are none (every response that is not gRPC
 * Trailers-Only). node's HTTP/2 compatibility API cannot end a stream with its HEADERS frame, and
 * gRPC clients read a status in the head only from such a frame.
 */
export function trailersOnlyStatus(headers: string[]): Record<string, string> | undefined {
  let taken: Record<string, string> | undefined
  for (let i = 0; i < headers.length; ) {
    const raw = headers[i]!
    // Most names do not start with "g": skip them without allocating a lower-case copy.
    const name = (raw.charCodeAt(0) | 0x20) === 0x67 ? raw.toLowerCase() : ''
    if (grpcStatusFields.has(name)) {
      ;(taken ??= {})[name] = headers[i + 1]!
      headers.splice(i, 2)
    } else i += 2
  }
  return taken
}
