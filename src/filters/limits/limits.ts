import type { RequestPhase } from '../phase.ts'

/**
 * A declared body larger than the route accepts gets 413 before a byte of it is read. Bodies of
 * unknown length are counted as they stream, by BodyLimit.
 */
export const limits: RequestPhase = {
  onRequest(x) {
    const declared = x.req.headers['content-length']
    if (declared !== undefined && x.route && Number(declared) > x.route.maxBodyBytes) return 'body_too_large'
    return undefined
  },
}
