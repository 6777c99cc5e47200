/** Edit distance between two short strings (Levenshtein). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]!
}

/** The closest choice to `found`, if one is close enough to be a likely typo. */
export function suggest(found: string, choices: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(found.length / 3)) + 1
  for (const choice of choices) {
    const d = distance(found.toLowerCase(), choice.toLowerCase())
    if (d < bestDistance) {
      best = choice
      bestDistance = d
    }
  }
  return best
}
