// A fast path for header lists: most names a rule looks for differ in length from most names a
// request or response carries (Accept, User-Agent, Date, …), so a bit per length tells, without
// lower-casing the name, that it cannot be one of them.

/** A bit per name length of `names`, for names up to 31 characters long. */
export function nameLengths(names: Iterable<string>): number {
  let mask = 0
  for (const name of names) mask |= 1 << name.length
  return mask
}

/** Whether `name` has a length in `mask`, so that it may be one of the names `mask` was made from. */
export function mayBeNamed(mask: number, name: string | Buffer): boolean {
  return name.length < 32 && (mask & (1 << name.length)) !== 0
}
