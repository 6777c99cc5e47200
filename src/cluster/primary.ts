import cluster, { type Worker } from 'node:cluster'
import type { AgentRequest } from '../admin/agent.ts'
import type { WorkerView } from '../admin/live-state.ts'
import type { Config } from '../config/schema.ts'
import { RatesPrimary } from '../filters/ratelimit/machine-store.ts'
import { loadSecret } from '../instance/secret.ts'
import type { EventLog } from '../log/events.ts'
import { type WorkerReport, WorkerReports } from '../metrics/worker-reports.ts'
import { SessionsPrimary } from '../tls/cluster-sessions.ts'
import type { ToPrimary, ToWorker } from './messages.ts'
import { resolvePorts } from './resolve-ports.ts'
import { type BankWorker, SlotBank } from './slot-bank.ts'

/** The worker processes of `portico run`, seen from the primary. */
export interface Workers {
  /** The listener URLs, as the workers bound them. */
  readonly urls: readonly string[]
  /** Sends a new config to every worker; resolves once all have applied it, rejects with the first refusal. */
  reload(config: Config): Promise<void>
  /** Makes every worker drain within its grace period and exit; resolves once all have exited. */
  close(): Promise<void>
  /** Every ready worker's metrics report, of those that answer in time. */
  metrics(): Promise<WorkerReport[]>
  /** Asks every ready worker for its live state (admin API); a worker that dies meanwhile is left out. */
  ask(request: AgentRequest): Promise<WorkerView[]>
  /** Sets a SharedState key in every worker, and in each one started later (admin API changes). */
  share(key: string, value: unknown): void
}

interface Member extends BankWorker {
  readonly worker: Worker
  readonly pid: number
  readonly leader: boolean
  readonly startedAt: number
  /** The config this worker runs; a worker started before a reload gets the reload when ready. */
  config: Config
  ready: boolean
}

// A worker that dies this soon after starting is replaced after a pause, so a crash loop does not spin.
const quickDeathMs = 1000

/**
 * Starts `count` worker processes that serve `config`, each on the same listener addresses (port 0
 * resolved first, so they all get one port). Resolves once every worker listens; rejects, with all
 * of them stopped, when one cannot start. A worker that dies later is replaced. Values set in the
 * SharedState of any worker are passed to all the others, and to every replacement, and so is the
 * instance's secret (the config's `secret`, else a random key made here).
 */
export async function startWorkers(config: Config, count: number, events: EventLog): Promise<Workers> {
  const primary = new Primary(await resolvePorts(config), count, events)
  // Workers start with this process's node flags: those of the shebang line in src/cli.ts.
  cluster.setupPrimary({ serialization: 'advanced' })
  // Whatever ends the primary ends its workers: nothing keeps serving unsupervised.
  process.on('exit', () => primary.kill())
  try {
    await Promise.all(Array.from({ length: count }, (_, i) => primary.start(i)))
  } catch (err) {
    await primary.close()
    throw err
  }
  events.info('workers started', { pids: primary.pids() })
  return primary
}

/** The primary's side of the workers: starts, replaces, reloads and stops them, and relays between them. */
class Primary implements Workers {
  #current: Config
  readonly #count: number
  readonly #events: EventLog
  // Made or read once: every worker, replacements included, signs and encrypts with the same key.
  readonly #secret: Buffer
  readonly #members = new Set<Member>()
  /** The shared state so far, for workers that start later. */
  readonly #state = new Map<string, unknown>()
  readonly #bank: SlotBank
  readonly #rates = new RatesPrimary()
  readonly #reports = new WorkerReports()
  readonly #sessions = new SessionsPrimary()
  #stopping = false
  #urls: readonly string[] = []

  constructor(config: Config, count: number, events: EventLog) {
    this.#current = config
    this.#count = count
    this.#events = events
    this.#secret = loadSecret(config.secret)
    this.#bank = new SlotBank(config, count)
  }

  get urls(): readonly string[] {
    return this.#urls
  }

  pids(): number[] {
    return [...this.#members].map((m) => m.worker.process.pid!)
  }

  /**
   * Starts worker number `index`; resolves once it listens, rejects when it fails or exits first.
   * A replacement takes the index of the one it replaces, and so its share of instance limits.
   */
  start(index: number, replacing = false): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const worker = cluster.fork()
      const leader = index === 0
      const member: Member = {
        worker,
        pid: worker.process.pid ?? 0,
        leader,
        index,
        startedAt: performance.now(),
        config: this.#current,
        ready: false,
        send: (message) => send(member, message),
      }
      this.#members.add(member)
      worker.on('message', (message: ToPrimary) => {
        if (message.type === 'ready') {
          this.#ready(member, message.urls, replacing)
          resolve()
        } else if (message.type === 'failed') reject(new Error(message.error))
        else this.#relay(member, message)
      })
      worker.once('exit', (code, signal) => {
        reject(new Error(`worker ${worker.process.pid} exited with ${signal ?? code} while starting`))
        this.#exited(member, code, signal)
      })
      send(member, { type: 'start', config: this.#current, leader, index, count: this.#count, secret: this.#secret })
      for (const [key, value] of this.#state) send(member, { type: 'state', key, value })
      this.#bank.join(member)
    })
  }

  async reload(config: Config): Promise<void> {
    // Listeners are bound once, at start, as in a single process; a reload changes what they serve.
    const next = { ...config, listeners: this.#current.listeners, workers: this.#current.workers }
    this.#current = next
    this.#bank.configure(next)
    await Promise.all([...this.#members].filter((m) => m.ready).map((m) => reloadOne(m, next)))
  }

  close(): Promise<void> {
    this.#stopping = true
    return Promise.all(
      [...this.#members].map((m) => {
        const exited = new Promise((resolve) => m.worker.once('exit', resolve))
        send(m, { type: 'stop' })
        // Past the grace period the workers close every connection themselves; this is the backstop.
        const backstop = setTimeout(() => m.worker.process.kill('SIGKILL'), this.#current.shutdown_grace + 5000)
        return exited.then(() => clearTimeout(backstop))
      }),
    ).then(() => undefined)
  }

  metrics(): Promise<WorkerReport[]> {
    return this.#reports.ask(
      [...this.#members].filter((m) => m.ready),
      (m, message) => send(m, message),
    )
  }

  async ask(request: AgentRequest): Promise<WorkerView[]> {
    const answers = await Promise.all([...this.#members].filter((m) => m.ready).map((m) => askOne(m, request)))
    return answers.filter((a) => a !== undefined)
  }

  share(key: string, value: unknown): void {
    this.#state.set(key, value)
    for (const m of this.#members) send(m, { type: 'state', key, value })
  }

  /** Kills every worker at once: the primary is exiting. */
  kill(): void {
    for (const m of this.#members) m.worker.process.kill('SIGKILL')
  }

  #ready(member: Member, urls: readonly string[], replacing: boolean): void {
    member.ready = true
    this.#urls = urls
    if (member.config !== this.#current) void reloadOne(member, this.#current).catch(() => {})
    // The other workers took every connection while this one was missing: they end theirs at
    // their next response, and the kernel spreads the reconnections over all workers again.
    if (replacing) for (const m of this.#members) if (m !== member && m.ready) send(m, { type: 'rebalance' })
  }

  /** A worker's message for the primary's services: slots, rate counts, metrics, TLS sessions, shared state. */
  #relay(member: Member, message: ToPrimary): void {
    if (message.type.startsWith('slots-')) this.#bank.receive(member, message as Parameters<SlotBank['receive']>[1])
    else if (message.type === 'rates-take') send(member, this.#rates.answer(message)!)
    else if (message.type === 'metrics-report') this.#reports.receive(member, message)
    else if (message.type === 'tls-session-put') this.#sessions.answer(message)
    else if (message.type === 'tls-session-get') send(member, this.#sessions.answer(message)!)
    else if (message.type === 'state') {
      this.#state.set(message.key, message.value)
      for (const m of this.#members) if (m !== member) send(m, message)
    }
  }

  /** A worker exited: a crash is replaced, after a pause when it died soon after starting. */
  #exited(member: Member, code: number | null, signal: string | null): void {
    const { worker } = member
    this.#members.delete(member)
    this.#bank.leave(member)
    this.#reports.leave(member)
    // Exit code 0 is a worker that was asked to stop (a signal sent to every process, as systemd
    // does): the primary is stopping too, so only a crash is replaced.
    if (this.#stopping || !member.ready) return
    if (code === 0) {
      this.#events.info('worker stopped', { pid: worker.process.pid })
      return
    }
    this.#events.warn('worker exited, starting another', { pid: worker.process.pid, code, signal })
    const replace = (): unknown =>
      this.#stopping ||
      this.start(member.index, true).then(
        () => this.#events.info('worker started', { pids: this.pids() }),
        (err) => {
          this.#events.error('worker could not start, trying again', { error: (err as Error).message })
          setTimeout(replace, quickDeathMs)
        },
      )
    if (performance.now() - member.startedAt < quickDeathMs) setTimeout(replace, quickDeathMs)
    else replace()
  }
}

let asked = 0

function askOne(member: Member, request: AgentRequest): Promise<WorkerView | undefined> {
  const id = ++asked
  return new Promise((resolve) => {
    const onMessage = (message: ToPrimary) => {
      if (message.type !== 'admin-answer' || message.id !== id) return
      member.worker.off('message', onMessage)
      member.worker.off('exit', onExit)
      resolve(message.answer)
    }
    const onExit = () => {
      member.worker.off('message', onMessage)
      resolve(undefined)
    }
    member.worker.on('message', onMessage)
    member.worker.once('exit', onExit)
    send(member, { type: 'admin', id, request })
  })
}

function send(member: Member, message: ToWorker): void {
  if (member.worker.isConnected()) member.worker.send(message)
}

function reloadOne(member: Member, config: Config): Promise<void> {
  member.config = config
  return new Promise((resolve, reject) => {
    const onMessage = (message: ToPrimary) => {
      if (message.type !== 'reloaded') return
      member.worker.off('message', onMessage)
      member.worker.off('exit', resolve)
      if (message.error) reject(new Error(message.error))
      else resolve()
    }
    member.worker.on('message', onMessage)
    // A worker that dies meanwhile is replaced on the new config.
    member.worker.once('exit', resolve)
    send(member, { type: 'reload', config })
  })
}
