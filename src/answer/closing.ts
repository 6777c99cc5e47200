// HTTP/1.1 client connections whose answer under way is their last one.
const closing = new WeakSet<object>()

/**
 * Marks an HTTP/1.1 client connection as ending with the answer under way, after a request refused
 * for what the client sent (respond.ts). node's server has already read the requests pipelined
 * behind it when they came in the same packet; the pipeline serves none of them (`isClosing`).
 */
export function closeAfterAnswer(socket: object): void {
  closing.add(socket)
}

/** Whether requests read on this connection are to be left unserved: an earlier answer ends it. */
export function isClosing(socket: object): boolean {
  return closing.has(socket)
}
