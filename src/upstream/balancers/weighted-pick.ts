import { type Server, weightOf } from '../server.ts'

/**
 * One usable server drawn at random in proportion to its weight; undefined when none is usable. `r` is a number in [0, 1). Two passes, no allocation.
 */
export function weightedPick(
  servers: readonly Server[],
  usable: (s: Server) => boolean,
  r: number,
): Server | undefined {
  let total = 0
  for (const s of servers) if (usable(s)) total += weightOf(s)
  if (total === 0) return undefined
  let point = r * total
  let last: Server | undefined
  for (const s of servers) {
    if (!usable(s)) continue
    const w = weightOf(s)
    if (w === 0) continue
    last = s
    point -= w
    if (point < 0) return s
  }
  // Rounding can leave a sliver past the last server.
  return last
}
