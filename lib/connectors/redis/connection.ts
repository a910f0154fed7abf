import type { Cluster, Redis, RedisOptions } from 'ioredis'
import { ConnectorError, messageOf } from '../../errors.js'
import { optionalDependency } from '../../util/optional-dependency.js'
import { backoffDelay } from '../../util/backoff.js'
import type { RetrySettings } from '../base/retry-options.js'
import type { RedisConnection } from './options.js'

/** ioredis, an optional peer dependency: the source and sink check for it when they are built. */
export const ioredis = await optionalDependency<typeof import('ioredis')>('ioredis')

/** An ioredis client of any configuration: one server, a cluster, or a sentinel-found master. */
export type RedisClient = Redis | Cluster

/**
 * One ioredis client with the connector's reconnection rule applied, whatever the configuration:
 * ioredis reconnects by itself and keeps commands issued meanwhile (`maxRetriesPerRequest: null`),
 * and once `retry.maxRetries` retries in a row failed it gives up, which turns into a ConnectorError
 * 'ERR_CONNECT' naming the servers, the attempts and the last error (`failure`, and `onFailure`).
 *
 * Not on the connectors' ReconnectLoop: ioredis reconnects by itself (and a cluster client per node),
 * and queues commands across reconnections only while it owns the loop; its `retryStrategy` hook gets
 * the delays from the same `backoffDelay` and retry settings instead.
 *
 * @example
 * const link = new RedisLink({ mode: 'single', port: 6379 }, retry, 'redisSink')
 * await link.ready()
 * await link.client.set('k', 'v')
 */
export class RedisLink {
  readonly client: RedisClient
  /** Set once the client gave up reconnecting. */
  failure: ConnectorError | undefined
  /** Successful connections so far ('ready' events); more than one means it reconnected. */
  connections = 0
  private lastError: Error | undefined
  private retries = 0
  private closing = false
  private readonly failureListeners: ((error: ConnectorError) => void)[] = []
  private readonly readyListeners: (() => void)[] = []

  constructor(
    readonly connection: RedisConnection,
    readonly retry: RetrySettings,
    readonly owner: string,
  ) {
    const retryStrategy = (times: number): number | null => {
      this.retries = times
      return times > retry.maxRetries ? null : backoffDelay(times - 1, retry)
    }
    const common: RedisOptions = { maxRetriesPerRequest: null, connectTimeout: retry.connectTimeoutMs, retryStrategy }
    this.client = createClient(connection, common, retryStrategy)
    this.client.on('error', (error: Error) => {
      this.lastError = error
    })
    this.client.on('ready', () => {
      this.connections++
      this.retries = 0
      for (const listener of this.readyListeners) listener()
    })
    this.client.on('end', () => {
      if (this.closing) return
      const reason = this.lastError === undefined ? 'connection closed' : messageOf(this.lastError)
      const attempts = Math.max(1, this.retries)
      this.failure ??= new ConnectorError(
        'ERR_CONNECT',
        `${owner} ${this.address}: no connection after ${attempts} attempt${attempts === 1 ? '' : 's'} (maxRetries ${retry.maxRetries}): ${reason}`,
        { cause: this.lastError, retriable: true },
      )
      for (const listener of this.failureListeners) listener(this.failure)
    })
  }

  /** The servers, for messages: `127.0.0.1:6379`, `cluster 10.0.0.1:7000,…`, `sentinel mymaster`. */
  get address(): string {
    return describeConnection(this.connection)
  }

  /** Resolves on the first connection, rejects with the ConnectorError when the retries run out first. */
  ready(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.client.status === 'ready') return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.readyListeners.push(resolve)
      this.failureListeners.push(reject)
    })
  }

  /** Called with the ConnectorError once the client gave up. */
  onFailure(listener: (error: ConnectorError) => void): void {
    if (this.failure !== undefined) listener(this.failure)
    else this.failureListeners.push(listener)
  }

  /** Called on every successful connection after this call (reconnections included). */
  onReady(listener: () => void): void {
    this.readyListeners.push(listener)
  }

  /** A second client to the same servers with the same rule (blocking reads need a connection of their own). */
  duplicate(owner = this.owner): RedisLink {
    return new RedisLink(this.connection, this.retry, owner)
  }

  /**
   * Closes the connection: QUIT when it is up, so answers in flight arrive first; `immediately` (a
   * connection blocked in XREADGROUP, whose QUIT would wait for the block) drops it at once. Resolves
   * once the socket is closed, so Redis has let go of a blocked read before anything else happens.
   */
  async close(immediately = false): Promise<void> {
    if (this.closing) return
    this.closing = true
    const client = this.client
    if (client.status === 'end') return
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()))
    const limit = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())
    if (!immediately && client.status === 'ready')
      await Promise.race([
        client.quit().then(
          () => undefined,
          () => undefined,
        ),
        limit(1000),
      ])
    client.disconnect()
    await Promise.race([ended, limit(1000)])
  }
}

function createClient(
  connection: RedisConnection,
  common: RedisOptions,
  retryStrategy: (times: number) => number | null,
): RedisClient {
  const { Cluster, Redis } = ioredis.get('redis connector')
  if (typeof connection === 'string') return new Redis(connection, common)
  switch (connection.mode) {
    case undefined:
    case 'single': {
      const { host = '127.0.0.1', port = 6379, db, username, password, options } = connection
      return new Redis({ ...options, ...common, host, port, db, username, password })
    }
    case 'cluster': {
      const { nodes, username, password, options } = connection
      return new Cluster(nodes, {
        ...options,
        clusterRetryStrategy: retryStrategy,
        redisOptions: { ...options?.redisOptions, ...common, username, password },
        // A pipeline's commands must all go to one node: auto-pipelining groups them by node instead.
        enableAutoPipelining: true,
      })
    }
    case 'sentinel': {
      const { sentinels, masterName, db, username, password, sentinelUsername, sentinelPassword, options } = connection
      return new Redis({
        ...options,
        ...common,
        sentinels,
        name: masterName,
        db,
        username,
        password,
        sentinelUsername,
        sentinelPassword,
        sentinelRetryStrategy: retryStrategy,
      })
    }
  }
}

/**
 * A short description of where a connection goes, for messages (no credentials).
 *
 * @example
 * describeConnection({ mode: 'single', port: 6380 }) // '127.0.0.1:6380'
 */
export function describeConnection(connection: RedisConnection): string {
  if (typeof connection === 'string') return connection.replace(/\/\/[^@/]*@/, '//')
  switch (connection.mode) {
    case undefined:
    case 'single':
      return `${connection.host ?? '127.0.0.1'}:${connection.port ?? 6379}`
    case 'cluster':
      return `cluster ${connection.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`
    case 'sentinel':
      return `sentinel ${connection.masterName} via ${connection.sentinels.map((n) => `${n.host}:${n.port}`).join(',')}`
  }
}
