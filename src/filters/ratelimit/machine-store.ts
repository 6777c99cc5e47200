import type { GcraDecision, GcraParams } from './gcra.ts'
import { LocalStore, type RateStore } from './local-store.ts'

/** Rate-limit decisions asked of the primary, and its answers, in the order asked. */
export type RateMessage =
  | { readonly type: 'rates-take'; readonly id: number; readonly asks: readonly (string | number)[] }
  | { readonly type: 'rates-answer'; readonly id: number; readonly answers: readonly number[] }

/**
 * The machine's rate-limit counts: one count per key for all the workers of an instance. The
 * primary keeps them (`RatesPrimary`); a worker asks it over IPC, every decision of one event loop
 * turn in one message, so the cost per request is a share of one round trip. A process that runs
 * alone keeps them itself.
 */
export class MachineRates implements RateStore {
  #local: LocalStore | undefined
  #send: ((message: RateMessage) => void) | undefined
  #asks: (string | number)[] = []
  #waiting: ((d: GcraDecision) => void)[] = []
  readonly #batches = new Map<number, ((d: GcraDecision) => void)[]>()
  #id = 0

  take(key: string, params: GcraParams): GcraDecision | Promise<GcraDecision> {
    if (!this.#send) {
      this.#local ??= new LocalStore()
      return this.#local.take(key, params)
    }
    if (this.#asks.length === 0) queueMicrotask(() => this.#flush())
    this.#asks.push(key, params.intervalMs, params.toleranceMs)
    return new Promise((resolve) => this.#waiting.push(resolve))
  }

  /** Makes this process a worker: its decisions are asked of the primary through `send`. */
  join(send: (message: RateMessage) => void): void {
    this.#send = send
  }

  /** Takes the primary's answer to a batch. */
  receive(message: RateMessage): void {
    if (message.type !== 'rates-answer') return
    const waiting = this.#batches.get(message.id)
    if (!waiting) return
    this.#batches.delete(message.id)
    const a = message.answers
    for (let i = 0; i < waiting.length; i++) waiting[i]!({ allowed: a[2 * i] === 1, aheadMs: a[2 * i + 1]! })
  }

  #flush(): void {
    const id = ++this.#id
    this.#batches.set(id, this.#waiting)
    const asks = this.#asks
    this.#asks = []
    this.#waiting = []
    this.#send!({ type: 'rates-take', id, asks })
  }
}

/** The primary's side: decides every worker's batches on one set of counts. */
export class RatesPrimary {
  readonly #store: LocalStore

  constructor(now?: () => number) {
    this.#store = new LocalStore(now)
  }

  /** Answers one batch of asks (key, interval, tolerance, …). */
  answer(message: RateMessage): RateMessage | undefined {
    if (message.type !== 'rates-take') return undefined
    const asks = message.asks
    const answers: number[] = []
    for (let i = 0; i < asks.length; i += 3) {
      const d = this.#store.take(asks[i] as string, {
        intervalMs: asks[i + 1] as number,
        toleranceMs: asks[i + 2] as number,
      })
      answers.push(d.allowed ? 1 : 0, d.aheadMs)
    }
    return { type: 'rates-answer', id: message.id, answers }
  }
}

/** This process's machine-wide counts. */
export const machineRates = new MachineRates()
