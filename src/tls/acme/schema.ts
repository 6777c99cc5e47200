import { z } from 'zod'
import { existingPath } from '../../values/common.ts'
import { duration } from '../../values/units.ts'

/** Let's Encrypt's production directory: the default certificate authority. */
export const letsEncrypt = 'https://acme-v02.api.letsencrypt.org/directory'

const hostName = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i
const namePattern = /^(\*\.)?[a-z0-9.-]+$/i

const challengeType = z.enum(['http-01', 'tls-alpn-01', 'dns-01'])

const execProvider = z
  .strictObject({
    command: z
      .array(z.string().min(1))
      .min(1)
      .describe(
        'Program and its first arguments. Portico runs it with two more: `present <fqdn> <value>` before the challenge and `cleanup <fqdn> <value>` after it, where fqdn is "_acme-challenge.<name>." and value the TXT record to set; exit 0 means done. The same arguments as lego\'s exec provider, so its scripts work unchanged.',
      ),
    timeout: duration(
      'Longest time one run may take before it is killed and counted as failed. Default "2m".',
    ).prefault('2m'),
    propagation: duration(
      'How long to wait after `present` succeeded before asking the CA to look, for the record to reach every DNS server. Default "0s".',
    ).prefault('0s'),
  })
  .describe("Set DNS-01 records by running a command, e.g. your DNS host's command-line tool or a script.")

const onDemand = z
  .strictObject({
    allow: z
      .array(z.string().regex(namePattern, 'expected a host name such as "example.com" or "*.example.com"'))
      .optional()
      .describe(
        'Names a certificate may be obtained for when a client asks for them: exact ("shop.example.com") or one-label wildcards ("*.example.com" allows "a.example.com"). A name must also be one a route accepts.',
      ),
    ask: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'URL asked before obtaining a certificate for a name not in `allow`: Portico sends GET with `?domain=<name>`, and only a 200 answer allows it (Caddy\'s "ask"). Answers are remembered for a minute.',
      ),
    rate: z
      .number()
      .int()
      .min(1)
      .prefault(10)
      .describe('Most certificates obtained on demand per `per`, for the whole instance. Default 10.'),
    per: duration('The period `rate` is counted over. Default "1m".').prefault('1m'),
  })
  .refine((o) => o.allow !== undefined || o.ask !== undefined, {
    message:
      'on_demand needs allow or ask, so that nobody can make Portico request certificates for names it does not serve',
  })
  .describe(
    'Obtain a certificate during the first TLS handshake that asks for a name (SNI) that a route accepts and `allow` or `ask` permits; that handshake waits for it. Others are refused.',
  )

/** The `acme` block of a listener's `tls`: certificates obtained and renewed from an ACME CA (RFC 8555). */
export const acmeSchema = z
  .strictObject({
    directory: z
      .url({ protocol: /^https?$/ })
      .prefault(letsEncrypt)
      .describe(`URL of the certificate authority's ACME directory. Default Let's Encrypt: "${letsEncrypt}".`),
    directory_ca: existingPath('file')
      .optional()
      .describe(
        "PEM file with CA certificates trusted for the directory's HTTPS besides the system's (a private CA). Default: the system's only.",
      ),
    email: z
      .email('expected an email address such as "ops@example.com"')
      .optional()
      .describe('Contact address given to the CA, which writes there before a certificate expires unrenewed.'),
    hosts: z
      .array(z.string().regex(hostName, 'expected a host name such as "example.com" or "*.example.com"'))
      .default([])
      .describe(
        'Names to obtain certificates for at start, one certificate each, renewed when a third of their lifetime remains. A wildcard ("*.example.com") needs dns-01.',
      ),
    challenges: z
      .array(challengeType)
      .min(1)
      .prefault(['http-01', 'tls-alpn-01'])
      .describe(
        'Challenge types to prove control of a name, in order of preference; a failed try uses the next one. "http-01" is answered on plain listeners (port 80 for a real CA), before routes and redirects; "tls-alpn-01" in the TLS handshake of this listener (port 443); "dns-01" through `dns`. Default ["http-01", "tls-alpn-01"].',
      ),
    dns: z
      .strictObject({ exec: execProvider })
      .optional()
      .describe('How DNS-01 records are set: the `exec` provider runs a command.'),
    storage: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Directory for the ACME account and the certificates (keys are written 0600), reused across restarts. Default "$XDG_DATA_HOME/portico/acme", else "~/.local/share/portico/acme".',
      ),
    on_demand: onDemand.optional(),
  })
  .superRefine((a, ctx) => {
    if (a.challenges.includes('dns-01') && !a.dns) {
      ctx.addIssue({ code: 'custom', path: ['dns'], message: 'dns-01 needs dns: { exec: { command: [...] } }' })
    }
    a.hosts.forEach((h, i) => {
      if (h.startsWith('*.') && !a.challenges.includes('dns-01')) {
        ctx.addIssue({ code: 'custom', path: ['hosts', i], message: 'a wildcard name needs the dns-01 challenge' })
      }
    })
    if (a.hosts.length === 0 && !a.on_demand) {
      ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'expected hosts, on_demand or both' })
    }
  })
  .describe(
    'Automatic HTTPS: certificates obtained and renewed from an ACME certificate authority, stored on disk and reused across restarts. With several workers, one obtains and all serve.',
  )

export type AcmeConfig = z.output<typeof acmeSchema>
export type ChallengeType = z.output<typeof challengeType>
