/** The job server, its options, and sluice's Prometheus metrics for any prom-client registry. */
export { JobServer } from './job-server.js'
export { type JobServerOptions, type ResultSerializer, isLoopback } from './job-server-options.js'
export { registerSluiceMetrics, type SluiceMetricsOptions } from './prometheus.js'
export { HttpError } from './http-error.js'
