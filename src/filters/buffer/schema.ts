import { tmpdir } from 'node:os'
import { z } from 'zod'
import { existingPath } from '../../values/common.ts'
import { size } from '../../values/units.ts'

const response = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Whether responses are buffered. Default true once this block is given.'),
    memory: size(
      'Response bytes held in memory per exchange before spilling to a temporary file. Default "1MiB".',
    ).prefault('1MiB'),
    disk: size(
      'Response bytes written to a temporary file per exchange, in all (as nginx\'s proxy_max_temp_file_size); once that much has been written, the rest of the response streams at the client\'s pace, holding the backend. 0 keeps it in memory only. Default "1GiB".',
    ).prefault('1GiB'),
  })
  .describe(
    "Reads the backend's response as fast as the backend sends it and frees the backend connection once it is complete, then feeds the client at its own pace. Off unless given.",
  )

const request = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Whether request bodies are buffered. Default true once this block is given.'),
    memory: size('Request body bytes held in memory; a larger body goes to a temporary file. Default "1MiB".').prefault(
      '1MiB',
    ),
    disk: size(
      'Largest request body held in a temporary file; a larger one gets 413 (max_body_bytes also applies). Default "100MiB".',
    ).prefault('100MiB'),
  })
  .describe(
    'Reads the whole request body before choosing a server, so slow uploads never hold a backend connection, and a failed attempt can be retried on another server with the whole body. Off unless given.',
  )

/** A route's `buffering:` block. */
export const bufferingSchema = z
  .strictObject({
    response: response.optional(),
    request: request.optional(),
    temp_dir: existingPath('directory')
      .default(tmpdir())
      .describe(
        'Directory for temporary files. Each file is unlinked as soon as it is created, so none is left behind, whatever happens. Default: the system temporary directory.',
      ),
  })
  .describe('Buffering of request and response bodies, so that slow clients do not hold backend connections.')

export type BufferingConfig = z.output<typeof bufferingSchema>
