import type { ServerOptions } from 'node:http'
import type { Http2SecureServer } from 'node:http2'
import type { Server as HttpsServer } from 'node:https'
import type { SecureContextOptions } from 'node:tls'
import { lazyBuiltin } from '../lazy-builtin.ts'
import type { EventLog } from '../log/events.ts'
import { AcmeSni } from '../tls/acme/listener-sni.ts'
import type { Acme } from '../tls/acme/manager.ts'
import { Certificates } from '../tls/certificates.ts'
import { cacheSessions } from '../tls/session-cache.ts'
import { h2Options } from './h2-options.ts'
import type { ListenerConfig } from './schema.ts'

/** A TLS server and the certificates it serves. */
export interface TlsServer {
  /** HTTP/2 and HTTP/1.1 by ALPN, or HTTP/1.1 only when the listener turns HTTP/2 off. */
  readonly server: Http2SecureServer | HttpsServer
  readonly certificates: Certificates
}

/**
 * Creates the TLS server of a listener with a `tls` block: certificates by SNI, TLS 1.2 or newer,
 * the configured ciphers, optional client certificates, and HTTP/2 next to HTTP/1.1 by ALPN.
 * Certificate files that change are served to new connections without a restart. Sessions resume
 * by ticket, under keys derived from `secret`, and by session id, from sessions the workers share
 * through the primary: either way on any worker. Client-initiated renegotiation is refused. With
 * `tls.acme`, `acme` adds the certificates it obtains.
 */
export function createTlsServer(
  config: ListenerConfig,
  events: EventLog,
  http1: ServerOptions,
  secret: Buffer,
  acme?: Acme,
): TlsServer {
  const tls = config.tls!
  let server: Http2SecureServer | HttpsServer | undefined
  let managed: AcmeSni | undefined
  const changed = (options: SecureContextOptions) => {
    server?.setSecureContext(options)
    managed?.reset()
  }
  const certificates = new Certificates(tls, events, changed, secret)
  managed = tls.acme && acme ? new AcmeSni(acme, certificates) : undefined
  const options = {
    ...http1,
    ...certificates.defaultOptions,
    SNICallback: managed?.sni ?? certificates.sni,
    requestCert: tls.client_auth !== undefined,
    rejectUnauthorized: tls.client_auth?.required ?? false,
  }
  if (config.http2.enabled === false) server = lazyBuiltin('node:https').createServer(options)
  else {
    server = lazyBuiltin('node:http2').createSecureServer({ ...options, ...h2Options(config.http2), allowHTTP1: true })
    // node:http2 hands HTTP/1.1 connections to node:http, which reads these settings off the server.
    Object.assign(server, http1)
  }
  if (tls.session_cache > 0) cacheSessions(server, tls.session_cache, tls.session_timeout, config.address)
  return { server, certificates }
}
