import type { Http2SecureServer, Http2Server } from 'node:http2'

/**
 * Takes node's HTTP/2 compatibility API (`Http2ServerRequest`, `Http2ServerResponse`) off
 * `server`: node adds it as the server's one 'stream' listener when the first 'request' listener
 * is added, which a TLS server that also serves HTTP/1.1 needs. Streams are then served only by
 * whoever listens to each session's 'stream' event. Call once every 'request' listener is added.
 */
export function compatibilityOff(server: Http2Server | Http2SecureServer): void {
  server.removeAllListeners('stream')
}
