import { isIP } from 'node:net'
import { ConfigError } from '../errors.js'
import type { Logger } from '../logging.js'
import { type JobRegistry, jobRegistry } from '../runtime/job-registry.js'
import { booleanOption, nonEmptyString, optionsObject, wholeNumber } from '../util/options.js'

/** How values are written into queryable-state answers; default JSON (maps as objects, bigints as strings). */
export interface ResultSerializer {
  readonly contentType: string
  serialize(body: unknown): string | Buffer
}

/** Options of the job server (and of the queryable-state server it grew from). */
export interface JobServerOptions {
  /** Default 127.0.0.1: the server is for this machine unless you say otherwise. */
  host?: string
  /** Default 0: a free port (see `url`). */
  port?: number
  /**
   * `Authorization: Bearer <token>` on every request but the dashboard page. Without one the server
   * warns, serves reads on loopback only, and refuses every call that changes a job.
   */
  token?: string
  /** Bind a non-loopback host without a token (anyone who reaches the port reads every job); default false. */
  allowUnauthenticated?: boolean
  serializer?: ResultSerializer
  /** Time a client has to send a request's headers; default 10,000 ms. */
  headersTimeoutMs?: number
  /** Time a client has to send a whole request; default 30,000 ms. */
  requestTimeoutMs?: number
  /** An idle keep-alive connection is closed after this; default 5,000 ms. */
  keepAliveTimeoutMs?: number
  /** Any connection with no traffic is closed after this; default 60,000 ms. */
  idleTimeoutMs?: number
  /** Connections served at once; more are closed as they arrive. Default 256. */
  maxConnections?: number
  /** A queryable-state lookup waits this long for the owning subtask; default 2,000 ms. */
  askTimeoutMs?: number
  /** Where refusals and internal errors are logged; default the SLUICE_LOG_LEVEL logger. */
  logger?: Logger
  /** The jobs served; default the process-wide registry (every job of this process). */
  jobs?: JobRegistry
}

/** Job server options with every default filled in. */
export interface ResolvedJobServerOptions {
  readonly host: string
  readonly port: number
  readonly token: string | undefined
  readonly serializer: ResultSerializer | undefined
  readonly headersTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly idleTimeoutMs: number
  readonly maxConnections: number
  readonly askTimeoutMs: number
  readonly logger: Logger | undefined
  readonly jobs: JobRegistry
}

const KNOWN = [
  'host',
  'port',
  'token',
  'allowUnauthenticated',
  'serializer',
  'headersTimeoutMs',
  'requestTimeoutMs',
  'keepAliveTimeoutMs',
  'idleTimeoutMs',
  'maxConnections',
  'askTimeoutMs',
  'logger',
  'jobs',
] as const

/**
 * Whether a host name binds loopback only: `localhost`, 127.0.0.0/8 or ::1.
 *
 * @example
 * isLoopback('127.0.0.1') // true; isLoopback('0.0.0.0') // false
 */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1' || host === '[::1]'
}

/**
 * Checks the options, naming the bad one; a non-loopback host without a token is refused unless
 * `allowUnauthenticated` is set.
 *
 * @example
 * resolveJobServerOptions({ host: '0.0.0.0' }) // throws ConfigError naming jobServer.token
 */
export function resolveJobServerOptions(
  options: JobServerOptions | undefined,
  path = 'jobServer',
): ResolvedJobServerOptions {
  const o = optionsObject(path, options, KNOWN)
  const host = nonEmptyString(`${path}.host`, o.host, '127.0.0.1')
  const token = o.token === undefined ? undefined : nonEmptyString(`${path}.token`, o.token)
  const allowUnauthenticated = booleanOption(`${path}.allowUnauthenticated`, o.allowUnauthenticated, false)
  if (token === undefined && !isLoopback(host) && !allowUnauthenticated)
    throw new ConfigError(
      `${path}.token`,
      undefined,
      `a token: host ${host} is reachable from other machines (or set allowUnauthenticated: true to serve it without one)`,
    )
  const ms = (name: (typeof KNOWN)[number], fallback: number) =>
    wholeNumber(`${path}.${name}`, o[name as keyof JobServerOptions], fallback, 1)
  return {
    host,
    port: wholeNumber(`${path}.port`, o.port, 0, 0, 65535),
    token,
    serializer: o.serializer,
    headersTimeoutMs: ms('headersTimeoutMs', 10_000),
    requestTimeoutMs: ms('requestTimeoutMs', 30_000),
    keepAliveTimeoutMs: ms('keepAliveTimeoutMs', 5_000),
    idleTimeoutMs: ms('idleTimeoutMs', 60_000),
    maxConnections: ms('maxConnections', 256),
    askTimeoutMs: ms('askTimeoutMs', 2_000),
    logger: o.logger,
    jobs: o.jobs ?? jobRegistry,
  }
}
