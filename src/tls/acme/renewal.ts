import type { StoredCertificate } from './store.ts'

const minuteMs = 60_000
const maxBackoffMs = 6 * 60 * minuteMs
// setTimeout takes at most 2^31 - 1 ms (about 24.8 days); longer waits are made of several.
const maxTimerMs = 2 ** 31 - 1

/** When a certificate is renewed: once a third of its lifetime remains (Let's Encrypt's advice). */
export function renewalTime(cert: Pick<StoredCertificate, 'notBefore' | 'notAfter'>): number {
  return cert.notAfter - (cert.notAfter - cert.notBefore) / 3
}

/**
 * How long to wait before trying again after `failures` failed tries in a row: 1 minute, doubled at
 * each failure up to 6 hours, then spread by ±50% so that many names failing together (the CA was
 * down) do not come back at the same instant.
 */
export function backoffMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(maxBackoffMs, minuteMs * 2 ** Math.max(0, failures - 1))
  return Math.round(base * (0.5 + random()))
}

/** Runs `run` at time `at` (ms since the epoch), however far away; unref'd. Returns what cancels it. */
export function runAt(at: number, run: () => void): () => void {
  let timer: NodeJS.Timeout
  const arm = () => {
    const wait = at - Date.now()
    if (wait <= maxTimerMs) timer = setTimeout(run, Math.max(0, wait))
    else timer = setTimeout(arm, maxTimerMs)
    timer.unref()
  }
  arm()
  return () => clearTimeout(timer)
}
