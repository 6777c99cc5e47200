/**
 * The capture names a regex gives: its named groups, plus "1", "2", … for its numbered groups when
 * `numbered` is set. Reads the compiled regex itself, so it agrees with what a match yields.
 */
export function regexNames(source: string, numbered: boolean): string[] {
  // An empty alternative makes the regex match "" whatever it is, so exec shows every group.
  const m = new RegExp(`${source}|`).exec('')!
  const names = Object.keys(m.groups ?? {})
  if (numbered) for (let i = 1; i < m.length; i++) names.push(String(i))
  return names
}
