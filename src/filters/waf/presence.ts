import type { RequestData } from './request-data.ts'
import type { Target } from './rule.ts'

/**
 * Which collections a request has anything in, as bits, so that a rule whose targets are all
 * empty for it is passed over with one AND. Collections not named here count as always present.
 */
const bits: Record<string, number> = {
  ARGS: 1,
  ARGS_NAMES: 1,
  ARGS_GET: 2,
  ARGS_GET_NAMES: 2,
  ARGS_POST: 4,
  ARGS_POST_NAMES: 4,
  REQUEST_COOKIES: 8,
  REQUEST_COOKIES_NAMES: 8,
  FILES: 16,
  FILES_NAMES: 16,
  MULTIPART_PART_HEADERS: 32,
  XML: 128,
  // Never present: Portico keeps no persistent collections.
  IP: 0,
  GLOBAL: 0,
  SESSION: 0,
  USER: 0,
  GEO: 0,
}
const always = 64

/** The bits of the collections a rule link reads; `always` when one of them is always present. */
export function readMask(targets: readonly Target[]): number {
  let mask = 0
  for (const t of targets) {
    const bit = bits[t.collection]
    // A count (`&ARGS`) is "0" for an empty collection: it still has a value to compare.
    mask |= t.count || bit === undefined ? always : bit
  }
  return mask
}

/** The bits of the collections this request has values in. */
export function presentMask(r: RequestData): number {
  let mask = always
  if (r.argsGet.length > 0) mask |= 1 | 2
  if (r.argsPost.length > 0) mask |= 1 | 4
  if (r.cookies.length > 0) mask |= 8
  if (r.files.length > 0) mask |= 16
  if (r.partHeaders.length > 0) mask |= 32
  if (r.xml.length > 0) mask |= 128
  return mask
}
