import type { Exchange } from '../../exchange.ts'

/** Records a regex match's named groups, and its numbered ones when `numbered`, as the exchange's captures. */
export function recordCaptures(x: Exchange, m: RegExpExecArray, numbered: boolean): void {
  const captures = (x.captures ??= {})
  if (numbered) for (let i = 1; i < m.length; i++) captures[i] = m[i] ?? ''
  const groups = m.groups
  if (groups) for (const name in groups) captures[name] = groups[name] ?? ''
}
