import cluster, { type Worker } from 'node:cluster'
import type { AgentRequest } from '../admin/agent.ts'
import type { WorkerView } from '../admin/live-state.ts'
import type { Config } from '../config/schema.ts'
import { RatesPrimary } from '../filters/ratelimit/machine-store.ts'
import type { EventLog } from '../log/events.ts'
import type { ToPrimary, ToWorker } from './messages.ts'
import { resolvePorts } from './resolve-ports.ts'
import { loadSecret } from './secret.ts'
import { type BankWorker, SlotBank } from './slot-bank.ts'

/** The worker processes of `portico run`, seen from the primary. */
export interface Workers {
  /** The listener URLs, as the workers bound them. */
  readonly urls: readonly string[]
  /** Sends a new config to every worker; resolves once all have applied it, rejects with the first refusal. */
  reload(config: Config): Promise<void>
  /** Makes every worker drain within its grace period and exit; resolves once all have exited. */
  close(): Promise<void>
  /** Asks every ready worker for its live state (admin API); a worker that dies meanwhile is left out. */
  ask(request: AgentRequest): Promise<WorkerView[]>
  /** Sets a SharedState key in every worker, and in each one started later (admin API changes). */
  share(key: string, value: unknown): void
}

interface Member extends BankWorker {
  readonly worker: Worker
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
  let current = await resolvePorts(config)
  // Made or read once: every worker, replacements included, signs and encrypts with the same key.
  const secret = loadSecret(config.secret)
  const members = new Set<Member>()
  const state = new Map<string, unknown>()
  const bank = new SlotBank(current, count)
  const rates = new RatesPrimary()
  let stopping = false
  let urls: readonly string[] = []
  // Workers start with this process's node flags: those of the shebang line in src/cli.ts.
  cluster.setupPrimary({ serialization: 'advanced' })
  // Whatever ends the primary ends its workers: nothing keeps serving unsupervised.
  process.on('exit', () => {
    for (const m of members) m.worker.process.kill('SIGKILL')
  })

  // A worker's index gives it its share of instance limits; a replacement takes the index of the one it replaces.
  const started = (index: number, replacing = false) =>
    new Promise<void>((resolve, reject) => {
      const worker = cluster.fork()
      const leader = index === 0
      const member: Member = {
        worker,
        leader,
        index,
        startedAt: performance.now(),
        config: current,
        ready: false,
        send: (message) => send(member, message),
      }
      members.add(member)
      worker.on('message', (message: ToPrimary) => {
        if (message.type.startsWith('slots-')) bank.receive(member, message as Parameters<SlotBank['receive']>[1])
        else if (message.type === 'rates-take') send(member, rates.answer(message)!)
        else if (message.type === 'ready') {
          member.ready = true
          urls = message.urls
          if (member.config !== current) void reloadOne(member, current).catch(() => {})
          // The other workers took every connection while this one was missing: they end theirs at
          // their next response, and the kernel spreads the reconnections over all workers again.
          if (replacing) for (const m of members) if (m !== member && m.ready) send(m, { type: 'rebalance' })
          resolve()
        } else if (message.type === 'failed') reject(new Error(message.error))
        else if (message.type === 'state') {
          state.set(message.key, message.value)
          for (const m of members) if (m !== member) send(m, message)
        }
      })
      worker.once('exit', (code, signal) => {
        members.delete(member)
        bank.leave(member)
        reject(new Error(`worker ${worker.process.pid} exited with ${signal ?? code} while starting`))
        // Exit code 0 is a worker that was asked to stop (a signal sent to every process, as systemd
        // does): the primary is stopping too, so only a crash is replaced.
        if (stopping || !member.ready) return
        if (code === 0) return events.info('worker stopped', { pid: worker.process.pid })
        events.warn('worker exited, starting another', { pid: worker.process.pid, code, signal })
        const replace = (): unknown =>
          stopping ||
          started(index, true).then(
            () => events.info('worker started', { pids: pids() }),
            (err) => {
              events.error('worker could not start, trying again', { error: (err as Error).message })
              setTimeout(replace, quickDeathMs)
            },
          )
        if (performance.now() - member.startedAt < quickDeathMs) setTimeout(replace, quickDeathMs)
        else replace()
      })
      send(member, { type: 'start', config: current, leader, index, count, secret })
      for (const [key, value] of state) send(member, { type: 'state', key, value })
      bank.join(member)
    })

  const pids = () => [...members].map((m) => m.worker.process.pid)

  const close = () => {
    stopping = true
    return Promise.all(
      [...members].map((m) => {
        const exited = new Promise((resolve) => m.worker.once('exit', resolve))
        send(m, { type: 'stop' })
        // Past the grace period the workers close every connection themselves; this is the backstop.
        const backstop = setTimeout(() => m.worker.process.kill('SIGKILL'), current.shutdown_grace + 5000)
        return exited.then(() => clearTimeout(backstop))
      }),
    ).then(() => undefined)
  }

  try {
    await Promise.all(Array.from({ length: count }, (_, i) => started(i)))
  } catch (err) {
    await close()
    throw err
  }
  events.info('workers started', { pids: pids() })

  return {
    get urls() {
      return urls
    },
    async reload(config) {
      // Listeners are bound once, at start, as in a single process; a reload changes what they serve.
      current = { ...config, listeners: current.listeners, workers: current.workers }
      const next = current
      bank.configure(next)
      await Promise.all([...members].filter((m) => m.ready).map((m) => reloadOne(m, next)))
    },
    close,
    async ask(request) {
      const answers = await Promise.all([...members].filter((m) => m.ready).map((m) => askOne(m, request)))
      return answers.filter((a) => a !== undefined)
    },
    share(key, value) {
      state.set(key, value)
      for (const m of members) send(m, { type: 'state', key, value })
    },
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
