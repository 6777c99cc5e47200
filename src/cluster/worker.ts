import { once } from 'node:events'
import { type Agent, startAgent } from '../admin/agent.ts'
import type { Config } from '../config/schema.ts'
import { machineRates, type RateMessage } from '../filters/ratelimit/machine-store.ts'
import { shared } from '../instance/shared-state.ts'
import { type LeaseMessage, SlotLeases } from '../instance/slot-leases.ts'
import type { EventLog } from '../log/events.ts'
import type { Report } from '../metrics/sample.ts'
import { type Portico, startPortico } from '../portico.ts'
import { clusterSessions, type SessionMessage } from '../tls/cluster-sessions.ts'
import type { ToPrimary, ToWorker } from './messages.ts'

/**
 * Runs this process as a worker of `portico run`: starts Portico on the config the primary sends,
 * applies its reloads and shared state, and on `stop`, SIGTERM, SIGINT or the loss of the primary
 * drains and exits 0. Signals are meant for the primary, which passes them on, so a worker ignores
 * SIGHUP and treats a repeated stop as the same stop.
 */
export async function runWorker(events: EventLog): Promise<number> {
  const send = (message: ToPrimary) => process.send?.(message)
  let portico: Portico | undefined
  let agent: Agent | undefined
  let stopping = false
  const leases = new SlotLeases((message) => send(message))
  const done = Promise.withResolvers<number>()
  const stop = () => {
    if (stopping) return
    stopping = true
    void Promise.resolve(portico?.close()).then(() => {
      if (process.connected) process.disconnect()
      done.resolve(0)
    })
  }
  process.on('SIGHUP', () => {})
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.on('disconnect', stop)
  process.on('message', (message: ToWorker) => {
    if (message.type.startsWith('slots-')) leases.receive(message as LeaseMessage)
    else if (message.type === 'rates-answer') machineRates.receive(message as RateMessage)
    else if (message.type === 'tls-session-answer') clusterSessions.receive(message as SessionMessage)
    else if (message.type === 'state') shared.receive(message.key, message.value)
    else if (message.type === 'stop') stop()
    else if (message.type === 'rebalance') portico?.rebalance()
    else if (message.type === 'metrics-ask') {
      const reply = (report?: Report) => send({ type: 'metrics-report', id: message.id, report })
      portico?.metrics ? portico.metrics().then(reply, () => reply()) : reply()
    } else if (message.type === 'admin') {
      if (agent) send({ type: 'admin-answer', id: message.id, answer: agent.answer(message.request) })
    } else if (message.type === 'reload') reload(portico, agent, message.config, send)
  })
  // The primary's first message is always `start`.
  const [start] = (await once(process, 'message')) as [Extract<ToWorker, { type: 'start' }>]
  shared.join(start.leader, (key, value) => send({ type: 'state', key, value }))
  machineRates.join(send)
  clusterSessions.join(send)
  try {
    portico = await startPortico(start.config, events, shared, Buffer.from(start.secret), {
      leases,
      place: { index: start.index, count: start.count },
    })
  } catch (err) {
    send({ type: 'failed', error: (err as Error).message })
    if (process.connected) process.disconnect()
    return 3
  }
  const running = portico
  agent = startAgent(() => running.plan(), shared)
  if (stopping) await portico.close(0)
  else send({ type: 'ready', urls: portico.urls })
  return done.promise
}

/** Applies a reload the primary sent, and tells it whether this worker took it. */
function reload(
  portico: Portico | undefined,
  agent: Agent | undefined,
  config: Config,
  send: (message: ToPrimary) => void,
): void {
  try {
    portico?.reload(config)
    agent?.reapply()
    send({ type: 'reloaded' })
  } catch (err) {
    send({ type: 'reloaded', error: (err as Error).message })
  }
}
