import type { Exchange } from '../exchange.ts'
import type { FailureCode } from '../errors.ts'
import type { Plan } from '../plan/plan.ts'

/** A request phase either passes the exchange on (undefined) or ends it with a catalogue failure. */
export interface RequestPhase {
  onRequest(x: Exchange, plan: Plan): FailureCode | undefined
}
