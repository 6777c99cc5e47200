import type { Health, ServerState } from '../server.ts'

/**
 * Feeds one active check result into `state`'s streak and returns the new health when it changes,
 * else undefined. A server of unknown health takes the first result at once; after that it takes
 * `rise` passes in a row to come back and `fall` failures in a row to go out.
 */
export function checkVerdict(state: ServerState, ok: boolean, rise: number, fall: number): Health | undefined {
  if (state.health === 'unknown') {
    state.checkStreak = 0
    return ok ? 'healthy' : 'unhealthy'
  }
  const goingOut = state.health === 'healthy'
  if (ok === goingOut) {
    state.checkStreak = 0
    return undefined
  }
  state.checkStreak++
  if (state.checkStreak < (goingOut ? fall : rise)) return undefined
  state.checkStreak = 0
  return goingOut ? 'unhealthy' : 'healthy'
}
