/**
 * Every metric Portico exports besides the process metrics: its name, type, labels and meaning.
 * docs/metrics.md lists the same, and a test keeps the two in step. Label values come from the
 * config (routes, pools, servers, listeners, limits) or from small fixed sets, never from requests.
 */
export interface Family {
  readonly name: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  readonly labels: readonly string[]
  readonly help: string
  /**
   * How the workers' values of a gauge combine into the instance's: `sum`, or `max` for a state
   * every worker shares. Counters and histograms are always summed.
   */
  readonly combine: 'sum' | 'max'
}

const family = (
  name: string,
  type: Family['type'],
  labels: readonly string[],
  help: string,
  combine: Family['combine'] = 'sum',
): Family => ({ name, type, labels, help, combine })

export const families: readonly Family[] = [
  family(
    'portico_requests_total',
    'counter',
    ['route', 'pool', 'server', 'method', 'status_class'],
    'Exchanges finished, by route, pool and server (empty when none), method and status class (1xx-5xx, "none" when no answer reached the client).',
  ),
  family(
    'portico_request_duration_seconds',
    'histogram',
    ['route'],
    'Time from the request head to the end of the response, whatever the outcome.',
  ),
  family(
    'portico_backend_response_seconds',
    'histogram',
    ['pool', 'server'],
    "Time from sending a request to a server until its response head came back (the last attempt's).",
  ),
  family(
    'portico_received_bytes_total',
    'counter',
    ['route', 'pool', 'server'],
    'Request body bytes received from clients.',
  ),
  family('portico_sent_bytes_total', 'counter', ['route', 'pool', 'server'], 'Response body bytes sent to clients.'),
  family('portico_queue_wait_seconds', 'histogram', ['pool'], "Time requests waited in a pool's queue for a server."),
  family(
    'portico_retries_total',
    'counter',
    ['pool', 'reason'],
    'Attempts made again after a failure, by the failure code that caused them (docs/errors.md).',
  ),
  family(
    'portico_cache_requests_total',
    'counter',
    ['route', 'result'],
    "What a route's cache did: hit, stale, miss, bypass or purge.",
  ),
  family(
    'portico_rate_limit_decisions_total',
    'counter',
    ['limit', 'decision'],
    'Requests a rate limit did not simply let through: rejected (429), delayed, shadowed (over a shadow limit), store_error.',
  ),
  family(
    'portico_redis_losses_total',
    'counter',
    ['redis'],
    'Times a process lost its connection to the Redis of the `redis` section (or could not make it); it reconnects by itself.',
  ),
  family(
    'portico_redis_failed_commands_total',
    'counter',
    ['redis'],
    'Commands to Redis that failed (away, slower than `redis.timeout`, refused): rate limit decisions, cache lookups, shared state.',
  ),
  family('portico_redis_up', 'gauge', ['redis'], 'Processes connected to Redis now (1 per process).'),
  family('portico_pool_in_flight', 'gauge', ['pool'], 'Requests in flight to the servers of a pool.'),
  family('portico_pool_queued', 'gauge', ['pool'], 'Requests waiting in the queue of a pool.'),
  family('portico_server_in_flight', 'gauge', ['pool', 'server'], 'Requests in flight to a server.'),
  family(
    'portico_server_health',
    'gauge',
    ['pool', 'server', 'state'],
    'A server\'s health from active checks: 1 for its state now ("unknown" until a check answered, or without checks).',
    'max',
  ),
  family(
    'portico_server_ejected',
    'gauge',
    ['pool', 'server'],
    'Workers that keep a server out now after passive failures (outlier detection runs in each worker).',
  ),
  family('portico_server_draining', 'gauge', ['pool', 'server'], '1 while a server is drained by hand.', 'max'),
  family(
    'portico_server_ejections_total',
    'counter',
    ['pool', 'server'],
    'Times outlier detection took a server out, summed over the workers.',
  ),
  family(
    'portico_server_state_changes_total',
    'counter',
    ['pool', 'server'],
    "Changes of a server's state (health, ejection, drain) as the first worker saw them.",
  ),
  family('portico_connections_total', 'counter', ['listener'], 'Client connections accepted.'),
  family('portico_connections_open', 'gauge', ['listener'], 'Client connections open now.'),
  family(
    'portico_acme_certificate_expiry_timestamp_seconds',
    'gauge',
    ['name'],
    'When the certificate ACME obtained for a name expires, in seconds since the epoch.',
  ),
  family(
    'portico_acme_certificate_renewal_failing',
    'gauge',
    ['name'],
    "1 while the last try to obtain or renew a name's certificate failed (the current one is still served), else 0.",
  ),
  family(
    'portico_tls_handshakes_total',
    'counter',
    ['listener', 'result'],
    'TLS handshakes with clients: ok, or failed (bad client hello, no shared protocol, refused client certificate, …).',
  ),
  family('portico_reloads_total', 'counter', ['result'], 'Config reloads: ok, or failed (the running config stayed).'),
]

/** Histogram bucket bounds, in seconds, for every duration above. */
export const secondsBuckets: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
]
