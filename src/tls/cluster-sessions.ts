import { SessionStore } from './session-store.ts'

/** TLS sessions a worker gives the primary or asks it for, and the primary's answers. */
export type SessionMessage =
  | {
      readonly type: 'tls-session-put'
      readonly listener: string
      readonly id: Uint8Array
      readonly data: Uint8Array
      readonly expires: number
      readonly max: number
    }
  | { readonly type: 'tls-session-get'; readonly ask: number; readonly listener: string; readonly id: Uint8Array }
  | {
      readonly type: 'tls-session-answer'
      readonly ask: number
      readonly data: Uint8Array | null
      readonly expires: number
    }

/** A session the primary found, with its expiry; null when it has none. */
export type SharedSession = { readonly data: Buffer; readonly expires: number } | null

// How long a handshake waits for the primary's answer before it goes on without resuming.
const answerWaitMs = 1000

/**
 * The TLS sessions of every worker of an instance, so that a client resuming by session id does
 * so on whichever worker the kernel hands its connection to. Each worker gives the primary every
 * session it makes (`put`), and asks it (`get`) only for a session id it does not hold itself; the
 * primary keeps them (`SessionsPrimary`). A process that runs alone has only its own sessions.
 */
export class ClusterSessions {
  #send: ((message: SessionMessage) => void) | undefined
  readonly #waiting = new Map<number, (session: SharedSession) => void>()
  #ask = 0

  /** Whether this process is a worker, whose sessions the primary shares. */
  get joined(): boolean {
    return this.#send !== undefined
  }

  /** Makes this process a worker: its sessions go to the primary through `send`. */
  join(send: (message: SessionMessage) => void): void {
    this.#send = send
  }

  /** Gives the primary a session this worker made on `listener` (at most `max` kept per listener). */
  put(listener: string, id: Buffer, data: Buffer, expires: number, max: number): void {
    this.#send?.({ type: 'tls-session-put', listener, id, data, expires, max })
  }

  /** Asks the primary for a session of `listener`; `done` gets it, or null (at once when alone). */
  get(listener: string, id: Buffer, done: (session: SharedSession) => void): void {
    if (!this.#send) {
      done(null)
      return
    }
    const ask = ++this.#ask
    this.#waiting.set(ask, done)
    this.#send({ type: 'tls-session-get', ask, listener, id })
    setTimeout(() => this.#answer(ask, null), answerWaitMs).unref()
  }

  /** Takes the primary's answer. */
  receive(message: SessionMessage): void {
    if (message.type !== 'tls-session-answer') return
    const data = message.data
    this.#answer(message.ask, data === null ? null : { data: Buffer.from(data), expires: message.expires })
  }

  #answer(ask: number, session: SharedSession): void {
    const done = this.#waiting.get(ask)
    if (done === undefined) return
    this.#waiting.delete(ask)
    done(session)
  }
}

/** The primary's side: one session store per listener, for all the workers. */
export class SessionsPrimary {
  readonly #stores = new Map<string, SessionStore>()
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** Keeps a worker's session, or answers a worker's ask (the message to send it back). */
  answer(message: SessionMessage): SessionMessage | undefined {
    const key = (id: Uint8Array) => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1')
    if (message.type === 'tls-session-put') {
      let store = this.#stores.get(message.listener)
      if (store === undefined) this.#stores.set(message.listener, (store = new SessionStore()))
      store.put(key(message.id), message.data, message.expires, message.max)
      return undefined
    }
    if (message.type !== 'tls-session-get') return undefined
    const session = this.#stores.get(message.listener)?.get(key(message.id), this.#now())
    return { type: 'tls-session-answer', ask: message.ask, data: session?.data ?? null, expires: session?.expires ?? 0 }
  }
}

/** This process's share of the instance's TLS sessions. */
export const clusterSessions = new ClusterSessions()
