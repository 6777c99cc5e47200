/**
 * A node built-in module, loaded the first time it is asked for: TLS, HTTP/2 and compression cost
 * several MB of memory each in every process, and a config that uses none of them never loads them.
 */
export function lazyBuiltin<Id extends 'node:http2' | 'node:https' | 'node:tls' | 'node:zlib'>(id: Id) {
  return process.getBuiltinModule(id)
}
