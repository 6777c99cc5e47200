/**
 * Worker `index`'s share of `total` when `count` workers split it: `floor(total / count)`, plus one
 * for each of the first `total % count` workers, so that the shares add up to `total`. With
 * `atLeastOne`, a worker whose share would be 0 gets 1 (when `total` is above 0): a limit that a
 * worker cannot work with at all, such as a queue, then holds for the instance only as long as
 * `total` is at least `count`.
 */
export function workerShare(total: number, index: number, count: number, atLeastOne = false): number {
  const share = Math.floor(total / count) + (index % count < total % count ? 1 : 0)
  return atLeastOne && total > 0 ? Math.max(1, share) : share
}

/** Which worker this process is, of how many; the only one of one when Portico runs in one process. */
export interface WorkerPlace {
  readonly index: number
  readonly count: number
}

/** The place of a process that runs Portico alone. */
export const alone: WorkerPlace = { index: 0, count: 1 }
