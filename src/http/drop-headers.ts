/** Removes, in place, every header of a flat `[name, value, …]` list whose lower-case name is in `names`. */
export function dropHeaders(headers: string[], names: ReadonlySet<string>): void {
  let w = 0
  for (let r = 0; r < headers.length; r += 2) {
    if (names.has(headers[r]!.toLowerCase())) continue
    headers[w++] = headers[r]!
    headers[w++] = headers[r + 1]!
  }
  headers.length = w
}
