import { z } from 'zod'
import { existingPath } from '../values/common.ts'
import { minSecretLength } from './secret.ts'

/** A secret key, checked without echoing it: config errors are printed and logged. */
const secretText = z.string().check((ctx) => {
  if (ctx.value.trim().length < minSecretLength) {
    ctx.issues.push({ code: 'custom', input: '', message: `expected a key of at least ${minSecretLength} characters` })
  }
})

/** The top-level `secret` block: the key every process of an instance (and every instance) shares. */
export const secretSchema = z
  .strictObject({
    value: secretText.optional().describe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${NAME} syntax, shown to the user.
      'The key itself, at least 32 characters; write "${PORTICO_SECRET}" to take it from the environment. Never logged.',
    ),
    file: existingPath('file', 'an existing file with the key')
      .optional()
      .describe('A file that holds the key (at least 32 characters; surrounding white space is ignored).'),
  })
  .refine((s) => (s.value === undefined) !== (s.file === undefined), {
    message: 'give either value or file',
    path: ['value'],
  })
  .describe(
    'The key Portico derives its shared keys from: the key that signs sticky cookies (unless a pool gives its own sticky.secret) and the TLS session ticket keys. Give every instance behind one address the same secret, so a cookie or a TLS session from one is honoured by the others. Read at start only. Default: a random key made at start and given to every worker, so workers agree and a restart forgets.',
  )

export type SecretConfig = z.output<typeof secretSchema>
