import { randomUUID, timingSafeEqual } from 'node:crypto'
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Counter, Registry } from 'prom-client'
import { type Logger, createLogger } from '../logging.js'
import type { RegisteredJob } from '../runtime/job-registry.js'
import { DASHBOARD_HTML } from './dashboard.js'
import { HttpError } from './http-error.js'
import {
  type JobServerOptions,
  type ResolvedJobServerOptions,
  type ResultSerializer,
  isLoopback,
  resolveJobServerOptions,
} from './job-server-options.js'
import { JobViews } from './job-views.js'
import { SluiceMetrics } from './prometheus.js'
import { lookupState, parseKey, readStateHere, servingSubtask } from './queryable-routes.js'
import { RateMeter } from './rate-meter.js'

const jsonSerializer: ResultSerializer = {
  contentType: 'application/json',
  serialize: (body) =>
    JSON.stringify(body, (_k, v) =>
      typeof v === 'bigint' ? v.toString() : v instanceof Map ? Object.fromEntries(v) : v instanceof Set ? [...v] : v,
    ),
}

/** Request bodies (savepoint directories) are small; anything bigger is refused. */
const MAX_BODY_BYTES = 64 * 1024

interface Request {
  readonly method: string
  readonly parts: readonly string[]
  /** The query string, without its `?`: only a lookup reads it. */
  readonly search: string
  readonly raw: IncomingMessage
}

/**
 * The job server of a process: the REST API (Flink's paths), Prometheus metrics at `/metrics`, the
 * web dashboard at `/`, and the queryable state of every job in the process-wide job registry.
 *
 * - `GET /jobs`, `/jobs/:id`, `/jobs/:id/vertices/:vertex`, `/jobs/:id/checkpoints`,
 *   `/jobs/:id/exceptions`, `/jobs/:id/backpressure`, `/jobs/:id/watermarks`;
 * - `POST /jobs/:id/savepoints` `{ targetDirectory }`, `POST /jobs/:id/stop` `{ targetDirectory }`,
 *   `POST /jobs/:id/cancel`;
 * - `GET /jobs/:id/states`, `/jobs/:id/states/:name?key=<JSON>` (queryable state);
 * - `GET /metrics` (Prometheus text format), `GET /` (dashboard; the token goes in the page's `#token=`).
 *
 * Security: loopback unless `host` says otherwise; with a token every request but the dashboard page
 * needs `Authorization: Bearer <token>` (401 ERR_UNAUTHORIZED); without one the server warns, and every
 * call that changes a job is refused (403 ERR_TOKEN_REQUIRED). A non-loopback host needs a token unless
 * `allowUnauthenticated` is set. Slow and idle clients are cut off by the header, request, keep-alive
 * and idle timeouts and the connection limit (connections refused over it are counted in
 * `sluice_server_dropped_connections_total` and logged).
 *
 * Errors are `{ error: { code, message } }`: 400 ERR_BAD_REQUEST / ERR_BAD_KEY, 401, 403, 404
 * ERR_NOT_FOUND / ERR_UNKNOWN_JOB / ERR_UNKNOWN_VERTEX / ERR_UNKNOWN_STATE / ERR_KEY_NOT_FOUND, 405,
 * 409 ERR_JOB_NOT_RUNNING, 503 ERR_JOB_RESTARTING / ERR_SUBTASK_BUSY (with Retry-After); a 500 carries
 * ERR_INTERNAL and a `requestId` whose details are in the log, never the internal message.
 *
 * Threading: one Node event loop, shared with the subtasks of the jobs it serves on the single-thread
 * executor: a queryable lookup reads the owning subtask's state between two of its messages. On the
 * worker executor the subtasks run on worker threads and this thread only routes lookups to them.
 *
 * @example
 * const server = await JobServer.start({ port: 8081, token: process.env.SLUICE_TOKEN })
 * StreamEnvironment.create({ queryableState: server }) // or { queryableState: { port: 8081, token } }
 */
export class JobServer {
  /**
   * The server's own metrics (dropped connections) and any you add: `/metrics` answers sluice's job
   * metrics, rendered directly, followed by this registry's.
   */
  readonly registry = new Registry()
  private readonly metrics: SluiceMetrics
  private readonly token: Buffer | undefined
  private readonly serializer: ResultSerializer
  private readonly views = new JobViews(new RateMeter())
  private readonly log: Logger

  private constructor(
    private readonly server: Server,
    private readonly options: ResolvedJobServerOptions,
  ) {
    this.token = options.token === undefined ? undefined : Buffer.from(`Bearer ${options.token}`)
    this.serializer = options.serializer ?? jsonSerializer
    this.log = (options.logger ?? createLogger()).child({ component: 'job-server' })
    this.metrics = new SluiceMetrics({ jobs: options.jobs })
    const dropped = new Counter({
      name: 'sluice_server_dropped_connections_total',
      help: 'Connections the job server closed on arrival because maxConnections were open.',
      registers: [this.registry],
    })
    let lastWarning = Number.NEGATIVE_INFINITY
    let unreported = 0
    // Node emits 'drop' for each connection refused over maxConnections: counted, and logged at most every 10 s
    server.on('drop', () => {
      dropped.inc()
      unreported++
      const now = Date.now()
      if (now - lastWarning < 10_000) return
      this.log.warn('job server at its connection limit: connections closed on arrival', {
        dropped: unreported,
        maxConnections: options.maxConnections,
      })
      lastWarning = now
      unreported = 0
    })
  }

  /**
   * Starts a server; invalid options fail with a ConfigError naming `jobServer.<option>`.
   *
   * @example
   * const server = await JobServer.start({ token: 's3cret' })
   * console.log(server.url) // http://127.0.0.1:40123
   */
  static async start(options: JobServerOptions = {}): Promise<JobServer> {
    const o = resolveJobServerOptions(options)
    let self: JobServer | undefined
    const server = createServer(
      {
        headersTimeout: o.headersTimeoutMs,
        requestTimeout: o.requestTimeoutMs,
        keepAliveTimeout: o.keepAliveTimeoutMs,
        connectionsCheckingInterval: Math.min(1_000, o.headersTimeoutMs),
      },
      (request, response) => void self!.handle(request, response),
    )
    server.maxConnections = o.maxConnections
    // a connection with no traffic at all (not even a request line) is cut off too
    server.on('connection', (socket) => socket.setTimeout(o.idleTimeoutMs, () => socket.destroy()))
    self = new JobServer(server, o)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(o.port, o.host, () => resolve())
    })
    if (o.token === undefined)
      self.log.warn(
        isLoopback(o.host)
          ? 'job server without a token: any local process can read every job; calls that change a job are refused'
          : 'job server without a token on a non-loopback host: anyone who reaches it can read every job',
        { url: self.url },
      )
    return self
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  get url(): string {
    const { address, family } = this.server.address() as AddressInfo
    return `http://${family === 'IPv6' ? `[${address}]` : address}:${this.port}`
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /**
   * The text `/metrics` answers: every job's metrics, then the server's own.
   *
   * @example
   * const text = await server.metricsText() // what a Prometheus scrape reads
   */
  async metricsText(): Promise<string> {
    return `${this.metrics.render()}\n${await this.registry.metrics()}`
  }

  private handle(raw: IncomingMessage, response: ServerResponse): void {
    try {
      const pending = this.serve(raw, response)
      if (pending !== undefined) pending.catch((error: unknown) => this.failed(raw, response, error))
    } catch (error) {
      this.failed(raw, response, error)
    }
  }

  /**
   * Answers a request; a promise only when the answer has to wait (a lookup in another thread, a body,
   * a savepoint). A queryable-state lookup is matched first and, when its subtask runs on this thread,
   * answered before this returns: no promise, no further routing.
   */
  private serve(raw: IncomingMessage, response: ServerResponse): Promise<void> | undefined {
    const request = parse(raw)
    const { parts } = request
    if (parts.length === 0 && request.method === 'GET') {
      this.sendText(response, 200, 'text/html; charset=utf-8', DASHBOARD_HTML)
      return undefined
    }
    this.authorize(request)
    if (parts.length === 4 && parts[0] === 'jobs' && parts[2] === 'states')
      return this.states(request, response, this.job(parts[1]!))
    return this.route(request, response)
  }

  /** Answers a request that failed: its HttpError, or a 500 whose details go to the log only. */
  private failed(raw: IncomingMessage, response: ServerResponse, error: unknown): void {
    if (error instanceof HttpError) return this.fail(response, error)
    const requestId = randomUUID()
    this.log.error('job server request failed', {
      requestId,
      method: raw.method,
      path: raw.url?.split('?')[0],
      error,
    })
    const body = {
      error: { code: 'ERR_INTERNAL', message: 'internal error; the server log has the details', requestId },
    }
    if (response.headersSent) response.destroy()
    else this.sendText(response, 500, 'application/json', JSON.stringify(body))
  }

  private authorize(request: Request): void {
    if (this.token === undefined) {
      if (request.method !== 'GET')
        throw new HttpError(403, 'ERR_TOKEN_REQUIRED', 'calls that change a job need a server started with a token')
      return
    }
    const given = Buffer.from(request.raw.headers.authorization ?? '')
    if (given.length !== this.token.length || !timingSafeEqual(given, this.token))
      throw new HttpError(401, 'ERR_UNAUTHORIZED', 'a valid bearer token is required')
  }

  private async route(request: Request, response: ServerResponse): Promise<void> {
    const { method, parts } = request
    if (parts.length === 1 && parts[0] === 'metrics') {
      expectMethod(method, 'GET')
      return this.sendText(response, 200, this.registry.contentType, await this.metricsText())
    }
    if (parts[0] !== 'jobs')
      throw new HttpError(404, 'ERR_NOT_FOUND', 'no such path; the API is under /jobs and /metrics')
    if (parts.length === 1) {
      expectMethod(method, 'GET')
      return this.send(response, 200, { jobs: this.options.jobs.list().map((job) => this.views.overview(job)) })
    }
    const job = this.job(parts[1]!)
    const view = parts[2]
    if (parts.length === 2) {
      expectMethod(method, 'GET')
      return this.send(response, 200, this.views.detail(job))
    }
    if (view === 'states') return this.states(request, response, job)
    if (parts.length === 4 && view === 'vertices') {
      expectMethod(method, 'GET')
      const id = /^\d+$/.test(parts[3]!) ? Number(parts[3]) : -1
      const vertex = this.views.vertex(job, id)
      if (vertex === undefined)
        throw new HttpError(404, 'ERR_UNKNOWN_VERTEX', `job ${job.id} has no vertex ${parts[3]}`)
      return this.send(response, 200, vertex)
    }
    if (parts.length !== 3) throw new HttpError(404, 'ERR_NOT_FOUND', `no such path under /jobs/${job.id}`)
    switch (view) {
      case 'checkpoints':
      case 'exceptions':
      case 'backpressure':
      case 'watermarks':
        expectMethod(method, 'GET')
        return this.send(response, 200, this.views[view](job))
      case 'cancel':
        expectMethod(method, 'POST')
        running(job)
        await job.cancel()
        return this.send(response, 202, { id: job.id, status: job.status })
      case 'savepoints':
      case 'stop': {
        expectMethod(method, 'POST')
        const body = await readJson(request.raw)
        const directory = body.targetDirectory
        if (typeof directory !== 'string' || directory === '')
          throw new HttpError(400, 'ERR_BAD_REQUEST', 'the body must be JSON { "targetDirectory": "<directory>" }')
        running(job)
        const location =
          view === 'stop' ? await job.stopWithSavepoint(directory) : await job.triggerSavepoint(directory)
        return this.send(response, 200, { id: job.id, location, status: job.status })
      }
      default:
        throw new HttpError(404, 'ERR_NOT_FOUND', `no such path under /jobs/${job.id}`)
    }
  }

  private job(id: string): RegisteredJob {
    const job = this.options.jobs.get(id)
    if (job === undefined) throw new HttpError(404, 'ERR_UNKNOWN_JOB', `no job ${id} in this process`)
    return job
  }

  private states(request: Request, response: ServerResponse, job: RegisteredJob): Promise<void> | undefined {
    expectMethod(request.method, 'GET')
    const { parts } = request
    if (job.status === 'finished' || job.status === 'cancelled' || job.status === 'failed')
      throw new HttpError(
        404,
        'ERR_UNKNOWN_JOB',
        `job ${job.id} is not running (it ${job.status === 'failed' ? 'failed' : job.status === 'finished' ? 'finished' : 'was cancelled'})`,
      )
    if (parts.length === 3) {
      this.send(response, 200, {
        job: job.id,
        name: job.name,
        serving: job.queryables.serving,
        states: job.queryables.names(),
      })
      return undefined
    }
    if (parts.length !== 4)
      throw new HttpError(404, 'ERR_NOT_FOUND', 'queryable state is at /jobs/<id>/states/<name>?key=<JSON>')
    const name = parts[3]!
    const key = parseKey(new URLSearchParams(request.search).get('key'))
    const { readHere } = servingSubtask(job.queryables, name, key)
    if (readHere !== undefined) {
      this.send(response, 200, readStateHere(readHere, name, key))
      return undefined
    }
    return lookupState(job.queryables, name, key, this.options.askTimeoutMs).then((answer) =>
      this.send(response, 200, answer),
    )
  }

  private send(response: ServerResponse, status: number, body: unknown): void {
    this.sendText(response, status, this.serializer.contentType, this.serializer.serialize(body))
  }

  private sendText(response: ServerResponse, status: number, contentType: string, payload: string | Buffer): void {
    response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) })
    response.end(payload)
  }

  private fail(response: ServerResponse, error: HttpError): void {
    if (error.retryAfterSeconds !== undefined) response.setHeader('retry-after', String(error.retryAfterSeconds))
    const payload = JSON.stringify({ error: { code: error.code, message: error.message } })
    this.sendText(response, error.status, 'application/json', payload)
  }
}

/** The method, the decoded path segments and the query string; a malformed `%` escape is a 400. */
function parse(raw: IncomingMessage): Request {
  const target = raw.url ?? '/'
  const q = target.indexOf('?')
  const path = q < 0 ? target : target.slice(0, q)
  const parts: string[] = []
  for (const segment of path.split('/')) {
    if (segment === '') continue
    try {
      parts.push(segment.includes('%') ? decodeURIComponent(segment) : segment)
    } catch {
      throw new HttpError(400, 'ERR_BAD_REQUEST', 'the path has a malformed % escape')
    }
  }
  return { method: raw.method ?? 'GET', parts, search: q < 0 ? '' : target.slice(q + 1), raw }
}

function expectMethod(method: string, allowed: 'GET' | 'POST'): void {
  if (method !== allowed) throw new HttpError(405, 'ERR_METHOD', `only ${allowed} is served here`)
}

function running(job: RegisteredJob): void {
  if (job.status === 'finished' || job.status === 'cancelled' || job.status === 'failed')
    throw new HttpError(409, 'ERR_JOB_NOT_RUNNING', `job ${job.id} is not running (${job.status})`)
}

async function readJson(raw: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of raw as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, 'ERR_BODY_TOO_LARGE', `request bodies are at most ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text === '') return {}
  try {
    const body = JSON.parse(text) as unknown
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>
  } catch {
    // answered below
  }
  throw new HttpError(400, 'ERR_BAD_REQUEST', 'the body must be a JSON object')
}
