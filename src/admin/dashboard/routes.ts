import { readFile } from 'node:fs/promises'
import type { Control } from '../control.ts'
import type { AdminAnswer, AdminRoutes } from '../routes.ts'
import { type Feed, instanceFeed } from './feed.ts'

/** The dashboard's files, beside this module in the sources and in dist/ alike, with their types. */
const files = {
  '/dashboard': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/chart.js': { file: 'chart.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/pools.js': { file: 'pools.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
} as const

// The page loads only its own script and style, and talks only to this listener.
const policy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:"

/**
 * Adds the dashboard to the admin listener: its page and files (open: they hold no data), and
 * `GET /dashboard/events`, a stream of server-sent events (behind the token like every other
 * call) that pushes a snapshot of the instance every second. `GET /` leads to the page.
 */
export function addDashboard(routes: AdminRoutes, control: Pick<Control, 'state' | 'config'>): AdminRoutes {
  let feed: Feed | undefined
  routes.add({
    method: 'GET',
    path: '/',
    open: true,
    handler: () => ({ status: 302, body: 'see /dashboard\n', type: 'text/plain', headers: { location: '/dashboard' } }),
  })
  for (const [path, { file, type }] of Object.entries(files)) {
    routes.add({ method: 'GET', path, open: true, handler: () => serveFile(file, type) })
  }
  return routes.add({
    method: 'GET',
    path: '/dashboard/events',
    handler: () => ({
      status: 200,
      body: '',
      type: 'text/event-stream',
      stream: (res) => {
        feed ??= instanceFeed(control)
        const stop = feed.watch((snapshot) => {
          // A page that stopped reading is let go rather than buffered for without end.
          if (res.writableLength > maxBufferedBytes) return void res.destroy()
          res.write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`)
        })
        res.on('close', stop)
      },
    }),
  })
}

/** Snapshots held for a page that does not read them: about a minute's worth. */
const maxBufferedBytes = 1024 * 1024

const cache = new Map<string, string>()

async function serveFile(file: string, type: string): Promise<AdminAnswer> {
  let text = cache.get(file)
  if (text === undefined) {
    text = await readFile(new URL(file, import.meta.url), 'utf8')
    cache.set(file, text)
  }
  return { status: 200, body: text, type, headers: { 'content-security-policy': policy } }
}
