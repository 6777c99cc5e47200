import { z } from 'zod'
import { size } from '../config/units.ts'
import { bufferingSchema } from '../filters/buffer-schema.ts'
import { compressionSchema } from '../filters/compress-schema.ts'

const hostPattern = z
  .string()
  .regex(/^(\*\.)?[a-z0-9.-]+$/i, 'expected a host name such as "example.com" or "*.example.com"')

const matchSchema = z
  .strictObject({
    host: z
      .union([hostPattern, z.array(hostPattern).min(1)])
      .optional()
      .describe('Host names this route answers: exact ("example.com") or wildcard ("*.example.com"). Default: any.'),
    path: z
      .string()
      .startsWith('/', 'expected a path starting with "/"')
      .optional()
      .describe(
        'Path prefix, matched on whole segments ("/api" matches "/api" and "/api/x", not "/apix"). Default "/".',
      ),
  })
  .describe('What a request must look like to take this route. Every given condition must hold.')

/** One route: which requests it takes and where it sends them. */
export const routeSchema = z
  .strictObject({
    name: z.string().optional().describe('Name shown in logs and metrics. Default: "route" and its index.'),
    match: matchSchema.optional(),
    pool: z.string().describe('Name of the pool that serves this route.'),
    max_body_bytes: size('Largest request body accepted; larger ones get 413. Default "100MiB".').prefault('100MiB'),
    compression: compressionSchema.optional(),
    buffering: bufferingSchema.optional(),
  })
  .describe('A route. Routes are tried in file order; the first that matches takes the request.')

export type RouteConfig = z.output<typeof routeSchema>
