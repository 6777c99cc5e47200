import cluster from 'node:cluster'

/**
 * Whether listeners bind with `SO_REUSEPORT`: in a worker on Linux, so each worker accepts on its
 * own socket and the kernel spreads connections over them. Elsewhere workers share the primary's
 * socket through the cluster module's distribution.
 */
export const reusePort = cluster.isWorker && process.platform === 'linux'
