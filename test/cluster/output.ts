import type { SpawnedPortico } from '../helpers/spawn.ts'

/** A config with one pool of `server`, two workers, and the JSON access log on stdout. */
export const config = (server: string) => ({
  listeners: [{ address: '127.0.0.1:0' }],
  pools: { web: { servers: [server] } },
  routes: [{ pool: 'web' }],
  workers: 2,
  access_log: { output: 'stdout', format: 'json' },
})

/** Resolves once the process has written a line for which `match` returns a value; returns that value. */
export function waitForLine<T>(p: SpawnedPortico, match: (line: string) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      for (const line of lines(p.output())) {
        const found = match(line)
        if (found !== undefined) {
          p.child.stdout!.off('data', onData)
          p.child.stderr!.off('data', onData)
          resolve(found)
          return true
        }
      }
      return false
    }
    // spawnPortico collects output in its own listener, registered first, so the text is there.
    const onData = () => void check()
    if (check()) return
    p.child.stdout!.on('data', onData)
    p.child.stderr!.on('data', onData)
    void p.exited.then((code) => reject(new Error(`portico exited with ${code}:\n${p.output()}`)))
  })
}

/** The pid of each access log line so far, in order. */
export function accessPids(p: SpawnedPortico): number[] {
  const pids = []
  for (const line of lines(p.output())) if (line.includes('"outcome"')) pids.push(JSON.parse(line).pid as number)
  return pids
}

/** The worker pids that the primary's event `message` lists, once it has written it. */
export function workerPids(p: SpawnedPortico, message: string): Promise<number[]> {
  return waitForLine(p, (line) => (line.includes(`"${message}"`) ? (JSON.parse(line).pids as number[]) : undefined))
}

/** The complete lines of `text`: a line still being read is left for later. */
export function lines(text: string): string[] {
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n')
}
