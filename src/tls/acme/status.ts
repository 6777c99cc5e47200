/**
 * What is known of one managed certificate, for the log, the admin API and metrics. Times are ISO
 * 8601 strings; fields are undefined until known (no certificate yet, no failure yet).
 */
export interface CertificateStatus {
  readonly name: string
  /** Common name of the issuing CA certificate. */
  readonly issuer: string | undefined
  readonly notAfter: string | undefined
  /** When the next renewal (or retry after a failure) is due. */
  readonly renewAt: string | undefined
  /** When the certificate served now was obtained. */
  readonly lastRenewal: string | undefined
  /** Why the last try failed; undefined once one succeeds. */
  readonly lastError: string | undefined
  readonly lastErrorAt: string | undefined
}

/** The shared-state key prefix of each certificate's status (`acme/status/<name>`), set by the process that obtains. */
export const statusKey = 'acme/status/'

/** An ISO 8601 time, or undefined. */
export function isoTime(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString()
}
