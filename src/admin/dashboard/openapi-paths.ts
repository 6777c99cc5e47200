// The dashboard's calls in the admin API's OpenAPI document (src/admin/openapi.ts spreads them in).

const text = (type: string, description: string) => ({
  description,
  content: { [type]: { schema: { type: 'string' } } },
})
const file = (summary: string, type: string) => ({
  get: { summary, security: [], responses: { 200: text(type, 'The file.') } },
})

/** The dashboard's paths: the page, its script and style (no token), and its event stream. */
export const dashboardPaths = {
  '/': {
    get: {
      summary: 'Leads to the dashboard.',
      security: [],
      responses: { 302: { description: 'To /dashboard.', headers: { location: { schema: { type: 'string' } } } } },
    },
  },
  '/dashboard': file(
    'The dashboard page: traffic charts, pools and servers, recent errors, certificates.',
    'text/html',
  ),
  '/dashboard/app.js': file("The dashboard's script (an ES module).", 'text/javascript'),
  '/dashboard/chart.js': file("The dashboard's charts (an ES module).", 'text/javascript'),
  '/dashboard/pools.js': file("The dashboard's pool tables (an ES module).", 'text/javascript'),
  '/dashboard/style.css': file("The dashboard's style sheet.", 'text/css'),
  '/dashboard/events': {
    get: {
      summary:
        'Server-sent events: a `snapshot` event now and every second after, with the state (as GET /state), the traffic point of the last second (requests per second, error rate, latency percentiles; the first event carries the last five minutes in `history`), the recent errors and the changes not in the file.',
      responses: {
        200: text('text/event-stream', 'A `snapshot` event every second, its data a JSON object.'),
        401: {
          description: 'No valid bearer token.',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    },
  },
} as const
