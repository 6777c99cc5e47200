import { readdirSync, readFileSync } from 'node:fs'

/** CPU time and memory of a process and all its descendants, read from /proc (Linux only). */
export interface Usage {
  /** User plus system CPU time, in seconds. */
  readonly cpuSeconds: number
  /** Sum of the peak resident set sizes (VmHWM), in bytes. */
  readonly peakRssBytes: number
  /** Sum of the current resident set sizes (VmRSS), in bytes. */
  readonly rssBytes: number
  /** Sum of the private anonymous memory (RssAnon): RSS less the shared executable and libraries. */
  readonly privateBytes: number
}

// Clock ticks per second for /proc/PID/stat; 100 on every Linux architecture Node runs on.
const ticksPerSecond = 100

/** The usage of `pid` and its descendants now; undefined where /proc is not there. */
export function usage(pid: number): Usage | undefined {
  let stats: Map<number, { ppid: number; ticks: number }>
  try {
    stats = readStats()
  } catch {
    return undefined
  }
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) for (const [p, s] of stats) if (s.ppid === tree[i]) tree.push(p)
  let ticks = 0
  let peak = 0
  let rss = 0
  let own = 0
  for (const p of tree) {
    ticks += stats.get(p)?.ticks ?? 0
    const status = readStatus(p)
    peak += status.VmHWM ?? 0
    rss += status.VmRSS ?? 0
    own += status.RssAnon ?? 0
  }
  return { cpuSeconds: ticks / ticksPerSecond, peakRssBytes: peak, rssBytes: rss, privateBytes: own }
}

function readStats(): Map<number, { ppid: number; ticks: number }> {
  const stats = new Map<number, { ppid: number; ticks: number }>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    let text: string
    try {
      text = readFileSync(`/proc/${name}/stat`, 'utf8')
    } catch {
      continue
    }
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    stats.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) })
  }
  return stats
}

function readStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {}
  try {
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const m = /^(Vm\w+|RssAnon):\s+(\d+) kB/.exec(line)
      if (m) out[m[1]!] = Number(m[2]) * 1024
    }
  } catch {}
  return out
}
