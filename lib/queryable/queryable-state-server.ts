import { timingSafeEqual } from 'node:crypto'
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ConfigError, messageOf } from '../errors.js'
import type { Key } from '../state/key-groups.js'
import type { QueryableRegistry } from './queryable-registry.js'

/** How values are written into answers; default JSON (maps as objects, bigints as strings). */
export interface ResultSerializer {
  readonly contentType: string
  serialize(body: unknown): string | Buffer
}

/** Options of the queryable-state server. */
export interface QueryableStateOptions {
  /** Default 127.0.0.1: the server is for this machine unless you say otherwise. */
  host?: string
  /** Default 0: a free port (see `url`). */
  port?: number
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string
  serializer?: ResultSerializer
}

const jsonSerializer: ResultSerializer = {
  contentType: 'application/json',
  serialize: (body) =>
    JSON.stringify(body, (_k, v) =>
      typeof v === 'bigint' ? v.toString() : v instanceof Map ? Object.fromEntries(v) : v instanceof Set ? [...v] : v,
    ),
}

interface ServedJob {
  readonly name: string
  readonly registry: QueryableRegistry
}

/**
 * A small HTTP server that answers point queries against the queryable state of running jobs; each
 * request goes to the subtask that owns the key's key group and is read there between batches.
 *
 * - `GET /jobs` lists the jobs served;
 * - `GET /jobs/<jobId>/states` lists a job's queryable states;
 * - `GET /jobs/<jobId>/states/<name>?key=<JSON>` answers `{ key, value }`.
 *
 * Errors are `{ error: { code, message } }`: 401 ERR_UNAUTHORIZED, 404 ERR_UNKNOWN_JOB /
 * ERR_UNKNOWN_STATE / ERR_KEY_NOT_FOUND, 400 ERR_BAD_KEY, 503 ERR_JOB_RESTARTING (with Retry-After).
 *
 * @example
 * const server = await QueryableStateServer.start({ port: 0, token: 's3cret' })
 * StreamEnvironment.create({ queryableState: server })
 */
export class QueryableStateServer {
  private readonly jobs = new Map<string, ServedJob>()
  private readonly token: Buffer | undefined
  private readonly serializer: ResultSerializer

  private constructor(
    private readonly server: Server,
    options: QueryableStateOptions,
  ) {
    this.token = options.token === undefined ? undefined : Buffer.from(`Bearer ${options.token}`)
    this.serializer = options.serializer ?? jsonSerializer
  }

  /** Starts a server; it listens on loopback unless `host` says otherwise. */
  static async start(options: QueryableStateOptions = {}): Promise<QueryableStateServer> {
    const { host = '127.0.0.1', port = 0, token } = options
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new ConfigError('queryableState.port', port, 'a port from 0 (any free port) to 65535')
    if (token !== undefined && (typeof token !== 'string' || token === ''))
      throw new ConfigError('queryableState.token', token, 'a non-empty string')
    let self: QueryableStateServer | undefined
    const server = createServer((request, response) => void self!.handle(request, response))
    self = new QueryableStateServer(server, options)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve())
    })
    return self
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  get url(): string {
    const { address, family } = this.server.address() as AddressInfo
    return `http://${family === 'IPv6' ? `[${address}]` : address}:${this.port}`
  }

  /** @internal A job starts being served. */
  register(jobId: string, name: string, registry: QueryableRegistry): void {
    this.jobs.set(jobId, { name, registry })
  }

  /** @internal A job stops being served. */
  unregister(jobId: string): void {
    this.jobs.delete(jobId)
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      if (this.token !== undefined) {
        const given = Buffer.from(request.headers.authorization ?? '')
        if (given.length !== this.token.length || !timingSafeEqual(given, this.token))
          return this.fail(response, 401, 'ERR_UNAUTHORIZED', 'a valid bearer token is required')
      }
      const url = new URL(request.url ?? '/', 'http://localhost')
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
      if (request.method !== 'GET') return this.fail(response, 405, 'ERR_METHOD', 'only GET is served')
      if (parts.length === 1 && parts[0] === 'jobs')
        return this.send(response, 200, { jobs: [...this.jobs].map(([id, j]) => ({ id, name: j.name })) })
      if (parts[0] !== 'jobs' || parts[2] !== 'states' || parts.length < 3 || parts.length > 4)
        return this.fail(
          response,
          404,
          'ERR_NOT_FOUND',
          'paths are /jobs, /jobs/<id>/states and /jobs/<id>/states/<name>?key=<JSON>',
        )
      const job = this.jobs.get(parts[1]!)
      if (job === undefined)
        return this.fail(response, 404, 'ERR_UNKNOWN_JOB', `no running job ${parts[1]} is served here`)
      if (parts.length === 3)
        return this.send(response, 200, {
          job: parts[1],
          name: job.name,
          serving: job.registry.serving,
          states: job.registry.names(),
        })
      return await this.lookup(response, job, parts[3]!, url.searchParams.get('key'))
    } catch (error) {
      this.fail(response, 500, 'ERR_INTERNAL', messageOf(error))
    }
  }

  private async lookup(response: ServerResponse, job: ServedJob, name: string, keyText: string | null): Promise<void> {
    let key: Key
    try {
      key = JSON.parse(keyText ?? '') as Key
      if (!['string', 'number', 'boolean'].includes(typeof key)) throw new Error('not a primitive')
    } catch {
      return this.fail(
        response,
        400,
        'ERR_BAD_KEY',
        'the key goes in ?key= as JSON: a string in quotes, a number or a boolean',
      )
    }
    if (!job.registry.serving) return this.restarting(response)
    if (!job.registry.has(name))
      return this.fail(
        response,
        404,
        'ERR_UNKNOWN_STATE',
        `job has no queryable state "${name}" (it has: ${job.registry.names().join(', ') || 'none'})`,
      )
    const served = job.registry.route(name, key)
    if (served === undefined) return this.restarting(response)
    let answer: { found: boolean; value: unknown }
    try {
      answer = await served.lookup(key)
    } catch {
      return this.restarting(response)
    }
    if (!answer.found)
      return this.fail(
        response,
        404,
        'ERR_KEY_NOT_FOUND',
        `state "${name}" has no value for key ${JSON.stringify(key)}`,
      )
    this.send(response, 200, { key, value: answer.value })
  }

  private restarting(response: ServerResponse): void {
    response.setHeader('retry-after', '1')
    this.fail(response, 503, 'ERR_JOB_RESTARTING', 'the job is restarting; ask again shortly')
  }

  private send(response: ServerResponse, status: number, body: unknown): void {
    const payload = this.serializer.serialize(body)
    response.writeHead(status, {
      'content-type': this.serializer.contentType,
      'content-length': Buffer.byteLength(payload),
    })
    response.end(payload)
  }

  private fail(response: ServerResponse, status: number, code: string, message: string): void {
    const payload = JSON.stringify({ error: { code, message } })
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) })
    response.end(payload)
  }
}
