import type { Pair, RequestData } from './request-data.ts'
import type { Tx } from './tx.ts'

/** The per-request state a variable may read besides the request: TX and the last matches. */
export interface VariableState {
  readonly tx: Tx
  matchedVar: string
  matchedVarName: string
  readonly matchedVars: Pair[]
}

const single = (name: string, value: string): Pair[] => [[name, value]]
const names = (pairs: readonly Pair[], as: string): Pair[] => pairs.map(([n]) => [`${as}:${n}`, n] as Pair)
const keyed = (pairs: readonly Pair[], as: string): Pair[] => pairs.map(([n, v]) => [`${as}:${n}`, v] as Pair)

/**
 * Every collection the rule files read, as `[full name, value]` pairs (`ARGS:id`, `REQUEST_URI`).
 * A collection missing here makes the rules that read it unrunnable; persistent ones (IP, GLOBAL,
 * SESSION, USER) are never kept by Portico and read as empty.
 */
export const collections: Record<string, (r: RequestData, s: VariableState) => readonly Pair[]> = {
  ARGS: (r) => keyed([...r.argsGet, ...r.argsPost], 'ARGS'),
  ARGS_NAMES: (r) => names([...r.argsGet, ...r.argsPost], 'ARGS_NAMES'),
  ARGS_GET: (r) => keyed(r.argsGet, 'ARGS_GET'),
  ARGS_GET_NAMES: (r) => names(r.argsGet, 'ARGS_GET_NAMES'),
  ARGS_POST: (r) => keyed(r.argsPost, 'ARGS_POST'),
  ARGS_POST_NAMES: (r) => names(r.argsPost, 'ARGS_POST_NAMES'),
  ARGS_COMBINED_SIZE: (r) =>
    single(
      'ARGS_COMBINED_SIZE',
      String([...r.argsGet, ...r.argsPost].reduce((n, [k, v]) => n + k.length + v.length, 0)),
    ),
  REQUEST_HEADERS: (r) => keyed(r.headers, 'REQUEST_HEADERS'),
  REQUEST_HEADERS_NAMES: (r) => names(r.headers, 'REQUEST_HEADERS_NAMES'),
  REQUEST_COOKIES: (r) => keyed(r.cookies, 'REQUEST_COOKIES'),
  REQUEST_COOKIES_NAMES: (r) => names(r.cookies, 'REQUEST_COOKIES_NAMES'),
  REQUEST_URI: (r) => single('REQUEST_URI', r.uri),
  REQUEST_URI_RAW: (r) => single('REQUEST_URI_RAW', r.uri),
  REQUEST_FILENAME: (r) => single('REQUEST_FILENAME', r.filename),
  REQUEST_BASENAME: (r) => single('REQUEST_BASENAME', r.basename),
  REQUEST_LINE: (r) => single('REQUEST_LINE', r.requestLine),
  REQUEST_METHOD: (r) => single('REQUEST_METHOD', r.method),
  REQUEST_PROTOCOL: (r) => single('REQUEST_PROTOCOL', r.protocol),
  QUERY_STRING: (r) => single('QUERY_STRING', r.queryString),
  REQUEST_BODY: (r) => single('REQUEST_BODY', r.body),
  REQUEST_BODY_LENGTH: (r) => single('REQUEST_BODY_LENGTH', String(r.body.length)),
  REQBODY_PROCESSOR: (r) => single('REQBODY_PROCESSOR', r.bodyProcessor),
  REQBODY_ERROR: (r) => single('REQBODY_ERROR', r.bodyError === '' ? '0' : '1'),
  REQBODY_ERROR_MSG: (r) => single('REQBODY_ERROR_MSG', r.bodyError),
  FILES: (r) => keyed(r.files, 'FILES'),
  FILES_NAMES: (r) => names(r.files, 'FILES_NAMES'),
  FILES_SIZES: () => [],
  FILES_COMBINED_SIZE: () => single('FILES_COMBINED_SIZE', '0'),
  MULTIPART_PART_HEADERS: (r) => r.partHeaders,
  MULTIPART_STRICT_ERROR: (r) =>
    single('MULTIPART_STRICT_ERROR', r.bodyProcessor === 'MULTIPART' && r.bodyError !== '' ? '1' : '0'),
  MULTIPART_UNMATCHED_BOUNDARY: () => single('MULTIPART_UNMATCHED_BOUNDARY', '0'),
  REMOTE_ADDR: (r) => single('REMOTE_ADDR', r.remoteAddr),
  UNIQUE_ID: () => single('UNIQUE_ID', Math.random().toString(16).slice(2)),
  DURATION: () => single('DURATION', '0'),
  TX: (_r, s) => [...s.tx].map(([k, v]) => [`TX:${k}`, v] as Pair),
  MATCHED_VAR: (_r, s) => single('MATCHED_VAR', s.matchedVar),
  MATCHED_VAR_NAME: (_r, s) => single('MATCHED_VAR_NAME', s.matchedVarName),
  MATCHED_VARS: (_r, s) => [...s.matchedVars],
  MATCHED_VARS_NAMES: (_r, s) => s.matchedVars.map(([n]) => [n, n] as Pair),
  XML: (r) => r.xml,
  IP: () => [],
  GLOBAL: () => [],
  SESSION: () => [],
  USER: () => [],
  GEO: () => [],
}

/** Each collection's number: a request's collections are kept in an array indexed by it. */
export const collectionSlots: ReadonlyMap<string, number> = new Map(
  Object.keys(collections).map((name, i) => [name, i]),
)

/** The collections' readers, by slot. */
export const collectionReaders: readonly ((r: RequestData, s: VariableState) => readonly Pair[])[] =
  Object.values(collections)

/** Collections Portico keeps no data for: rules that depend on them never match through them. */
export const emptyCollections: ReadonlySet<string> = new Set(['IP', 'GLOBAL', 'SESSION', 'USER', 'GEO'])
