import { accessSync, constants } from 'node:fs'
import { z } from 'zod'
import { duration } from '../values/units.ts'
import { acmeSchema } from './acme/schema.ts'

/** A path to a file Portico can read (PEM certificate, key or CA bundle), checked when the config loads. */
export function pemFile(doc: string) {
  return z
    .string()
    .min(1)
    .check((ctx) => {
      try {
        accessSync(ctx.value, constants.R_OK)
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not readable'
        ctx.issues.push({
          code: 'custom',
          input: ctx.value,
          message: `expected a readable file, found "${ctx.value}" (${reason})`,
        })
      }
    })
    .describe(doc)
}

const tlsVersion = z.enum(['TLSv1.2', 'TLSv1.3'])

// Mozilla "intermediate": forward secrecy and AEAD only. TLS 1.3 suites are not set by this list.
const modernCiphers = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':')

const certificate = z
  .strictObject({
    cert: pemFile('PEM file with the certificate, then its intermediates.'),
    key: pemFile('PEM file with the private key of the certificate.'),
    names: z
      .array(z.string().regex(/^(\*\.)?[a-z0-9.-]+$/i, 'expected a host name such as "example.com" or "*.example.com"'))
      .optional()
      .describe(
        'Server names (SNI) this certificate answers: exact ("example.com") or wildcard ("*.example.com", one label). Default: the DNS names in the certificate.',
      ),
  })
  .describe('One certificate and its key. Files are re-read when they change, without a restart.')

const clientAuth = z
  .strictObject({
    ca: pemFile('PEM file with the CA certificates that client certificates must chain to.'),
    required: z
      .boolean()
      .default(true)
      .describe(
        'Refuse the TLS handshake without a valid client certificate. When false, a certificate is asked for and checked if sent. Default true.',
      ),
  })
  .describe(
    'Client certificate authentication. The verified subject is in the access log (client_subject) and goes to the servers in X-Forwarded-Client-Cert (Envoy\'s format: Hash=…;Subject="…"); a client\'s own copy of that header is dropped unless it is a trusted proxy.',
  )

const hsts = z
  .strictObject({
    max_age: z
      .number()
      .int()
      .min(0)
      .default(31_536_000)
      .describe('Seconds browsers remember to use HTTPS only. Default 31536000 (a year).'),
    include_subdomains: z.boolean().default(false).describe('Also for every subdomain. Default false.'),
    preload: z.boolean().default(false).describe("Ask to be on browsers' preload lists. Default false."),
  })
  .describe('Sends Strict-Transport-Security on every response of this listener.')

const ticketKeyRotationDoc =
  'How long one session ticket key is used, from "1m" to "168h". Keys derive from the instance secret and the time, so every worker and every instance with the same secret changes key at the same moment; sessions ticketed under the old key then start afresh. Default "12h".'

/** The `tls` block of a listener: HTTPS with certificates chosen by SNI. */
export const listenerTlsSchema = z
  .strictObject({
    certificates: z
      .array(certificate)
      .default([])
      .describe(
        'Certificates, chosen by the server name the client asks for; the first is the default for other names and clients that send none. Needed unless `acme` obtains them.',
      ),
    acme: acmeSchema.optional(),
    min_version: tlsVersion
      .default('TLSv1.2')
      .describe(
        'Oldest TLS version accepted: "TLSv1.2" or "TLSv1.3". Default "TLSv1.2"; older ones are always refused.',
      ),
    ciphers: z
      .string()
      .min(1)
      .default(modernCiphers)
      .describe('OpenSSL cipher list for TLS 1.2. Default: ECDHE with AES-GCM or ChaCha20-Poly1305 only.'),
    session_timeout: z
      .number()
      .int()
      .min(0)
      .default(300)
      .describe('Seconds a TLS session may be resumed (tickets and session ids). Default 300.'),
    ticket_key_rotation: duration(ticketKeyRotationDoc)
      .refine((ms) => ms >= 60_000 && ms <= 168 * 3_600_000, 'expected a duration from "1m" to "168h"')
      .describe(ticketKeyRotationDoc)
      .prefault('12h'),
    session_cache: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe(
        'Most TLS sessions kept for clients that resume by session id instead of a ticket, in each worker and in the primary, which shares them between workers (so a client resumes on any worker); 0 keeps none. Default 10000.',
      ),
    reload_poll: duration(
      'How often the certificate and key files are checked for changes; a change is served to new connections without a restart. Default "5s".',
    ).prefault('5s'),
    client_auth: clientAuth.optional(),
    hsts: hsts.optional(),
  })
  .refine((t) => t.certificates.length > 0 || t.acme !== undefined, {
    message: 'expected certificates, acme or both',
    path: ['certificates'],
  })
  .describe('Serve HTTPS on this listener. HTTP/1.1 and HTTP/2 are offered by ALPN.')

export type ListenerTlsConfig = z.output<typeof listenerTlsSchema>

/** The `tls` block of a pool: how Portico talks TLS to its servers. */
export const backendTlsSchema = z
  .strictObject({
    ca: pemFile(
      'PEM file with the CA certificates that server certificates must chain to. Default: the system CAs.',
    ).optional(),
    server_name: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Server name sent (SNI) and checked in the certificate. Default: the server's host when it is a name, else the pool's host_header, else the Host of each request.",
      ),
    cert: pemFile('PEM file with a client certificate, for servers that require one (mTLS).').optional(),
    key: pemFile('PEM file with the key of the client certificate.').optional(),
    verify: z
      .boolean()
      .default(true)
      .describe(
        'Check the server certificate. false accepts any certificate, logs a warning at start, and is for tests only. Default true.',
      ),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), {
    message: 'cert and key go together',
    path: ['cert'],
  })
  .describe('Talk TLS to the servers of this pool.')

export type BackendTlsConfig = z.output<typeof backendTlsSchema>
