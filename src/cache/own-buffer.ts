/**
 * `chunks` (`bytes` in all) copied into one buffer of exactly that size, made for it alone. A
 * stored body lives long: a slice of node's shared 8 KiB pool (where `Buffer.concat` and
 * `Buffer.from` put anything under 4 KiB) or of a larger read buffer would keep the whole of it
 * alive for as long as the body is stored.
 */
export function ownBuffer(chunks: readonly Uint8Array[], bytes: number): Buffer {
  const out = Buffer.allocUnsafeSlow(bytes)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.byteLength
  }
  return out
}
