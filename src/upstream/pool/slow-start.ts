import type { Server } from '../server.ts'

/** Share a server gets at the start of slow start, so that it is tried at all. */
const minRamp = 0.1

/**
 * Slow start: a server that joins or comes back ramps up from a tenth of its weight to all of it
 * over `periodMs`, so that a cold server is not handed its full share at once. With a period of 0
 * every server takes its full weight at once.
 */
export class SlowStart {
  readonly #periodMs: number
  readonly #now: () => number

  constructor(periodMs: number, now: () => number) {
    this.#periodMs = periodMs
    this.#now = now
  }

  /** Starts the ramp of `s` now; called when it joins, recovers or ends draining. */
  start(s: Server): void {
    if (this.#periodMs === 0) return
    s.state.rampFrom = this.#now()
    s.state.ramp = minRamp
  }

  /** Moves every ramping server's share on to where the clock says; called before each pick. */
  advance(servers: readonly Server[]): void {
    if (this.#periodMs === 0) return
    const now = this.#now()
    for (const s of servers) {
      const state = s.state
      if (state.ramp < 1) state.ramp = Math.min(1, Math.max(minRamp, (now - state.rampFrom) / this.#periodMs))
    }
  }
}
