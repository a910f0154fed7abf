import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import { timingSafeEqual } from 'node:crypto'
import { Availability } from '../../runtime/availability.js'
import type { InputStatus, SourceOutput, SourceReader } from '../../runtime/source.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { Fifo } from '../../util/fifo.js'
import type { ServerReaderHost } from '../base/server-source.js'
import { decodeBody } from './body-decoder.js'
import { CheckpointAnswers } from '../base/checkpoint-answers.js'
import { IdempotencyKeys } from '../base/idempotency-keys.js'
import type { HttpServerSettings, HttpSourceStateV1, HttpSourceStats } from './options.js'

/** One admitted request: its records, its key, and who waits for its answer. */
interface Admitted<T> {
  readonly values: T[]
  readonly key: string | undefined
  /** Checkpointed mode: the responses waiting for the covering checkpoint (retries of the same key join). */
  readonly responses: ServerResponse[]
}

interface Held<T> {
  readonly admitted: Admitted<T>
  readonly res: ServerResponse
  cancel: () => void
  /** Answered 503 after holdTimeoutMs; skipped when room is made. */
  expired: boolean
}

/** What the reader needs of its source besides the settings. */
export type HttpReaderHost = ServerReaderHost<HttpSourceStats>

/**
 * The reader of the HTTP server source: a `node:http` server whose requests are decoded into a
 * bounded buffer that `pollNext` empties.
 *
 * Threading: request handlers and `pollNext` run on the one event loop; nothing is shared with
 * another thread. A request's records are admitted whole (all or none) and emitted in order, in one poll.
 *
 * Bounds: at most `maxBufferedRecords` records wait (one request larger than that is admitted into an
 * empty buffer only), plus the bodies being received (`maxConnections` × `maxBodyBytes`). In
 * checkpointed mode a request emitted before a barrier waits, with its response, for that
 * checkpoint's completion; Idempotency-Keys are remembered for `idempotencyWindowMs` after it.
 *
 * @example
 * const reader = httpServerSource({ port: 0 }).createReader(context)
 * await reader.start()
 */
export class HttpServerReader<T> implements SourceReader<T, HttpSourceStateV1> {
  private readonly server: Server | HttpsServer
  private readonly available = new Availability()
  private readonly queue = new Fifo<Admitted<T>>()
  private readonly held = new Fifo<Held<T>>()
  /** The oldest held request, taken from `held` and still waiting for room. */
  private heldHead: Held<T> | undefined
  private heldCount = 0
  private buffered = 0
  /** Checkpointed mode: requests waiting for their checkpoint, and the keys remembered after it. */
  private readonly answers: CheckpointAnswers<Admitted<T>>
  private readonly token: Buffer | undefined

  constructor(
    private readonly settings: HttpServerSettings<T>,
    private readonly host: HttpReaderHost,
    private readonly processingTime: ProcessingTimeService,
    restored: readonly unknown[],
  ) {
    this.answers = new CheckpointAnswers(
      new IdempotencyKeys(settings.idempotencyWindowMs, () => processingTime.now(), restored),
    )
    this.token = settings.token === undefined ? undefined : Buffer.from(`Bearer ${settings.token}`)
    const options: ServerOptions = {
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      // Node checks the two timeouts this often (30 s by default, longer than most timeouts here)
      connectionsCheckingInterval: Math.max(50, Math.min(settings.headersTimeoutMs, settings.requestTimeoutMs) / 4),
    }
    const handle = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res)
    this.server =
      settings.tls === undefined
        ? createServer(options, handle)
        : createHttpsServer({ ...settings.tls, ...options }, handle).on('tlsClientError', (error) =>
            host.log?.warn('tls handshake failed', { reason: error.message }),
          )
    this.server.maxConnections = settings.maxConnections
  }

  /** Records admitted and not yet emitted. */
  get bufferedRecords(): number {
    return this.buffered
  }

  /** Requests waiting for room (whenFull 'hold'). */
  get heldRequests(): number {
    return this.heldCount
  }

  /** Idempotency-Keys remembered after their checkpoint completed. */
  get rememberedKeys(): number {
    return this.answers.remembered
  }

  async start(): Promise<void> {
    await this.host.listen(this.server, 'http source')
  }

  /**
   * Emits one whole request: a barrier (which comes between polls) never splits a request, so a
   * checkpoint holds either all of a request's records, with its key, or none of them.
   */
  pollNext(output: SourceOutput<T>): InputStatus {
    const request = this.queue.shift()
    if (request === undefined) return 'nothing-available'
    const values = request.values
    for (let i = 0; i < values.length; i++) output.collect(values[i]!)
    this.buffered -= values.length
    if (this.settings.ackMode === 'checkpointed') this.answers.emitted(request)
    if (this.heldCount > 0) this.admitHeld()
    return this.buffered > 0 ? 'more' : 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  snapshotState(checkpointId: number): HttpSourceStateV1[] {
    if (this.settings.ackMode !== 'checkpointed') return []
    return [this.answers.snapshot(checkpointId)]
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.answers.complete(checkpointId, (request) => {
      for (const res of request.responses) answer(res, 200, { records: request.values.length })
    })
  }

  close(): Promise<void> {
    this.heldHead?.cancel()
    for (let h = this.held.shift(); h !== undefined; h = this.held.shift()) h.cancel()
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve()
      this.server.close(() => resolve())
      // unanswered requests (checkpointed mode) are cut: their clients retry with their keys
      this.server.closeAllConnections()
    })
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const s = this.settings
    const url = new URL(req.url ?? '/', 'http://sluice')
    if (url.pathname === s.healthPath && req.method === 'GET') {
      answer(res, 200, { status: 'ok', buffered: this.buffered, held: this.heldCount })
      return
    }
    if (url.pathname !== s.path) return answer(res, 404, { error: `no such path; records go to ${s.path}` })
    if (req.method !== 'POST' && !(req.method === 'GET' && s.format === 'query'))
      return answer(res, 405, { error: 'method not allowed' })
    if (this.token !== undefined && !this.authorized(req.headers.authorization)) {
      this.host.stats.unauthorized++
      return answer(res, 401, { error: 'missing or wrong bearer token' })
    }
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > s.maxBodyBytes) return this.tooLarge(req, res, declared)
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > s.maxBodyBytes) {
        req.removeAllListeners('data').removeAllListeners('end')
        this.tooLarge(req, res, size)
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => this.received(req, res, url.searchParams, Buffer.concat(chunks, size)))
  }

  private received(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, body: Buffer): void {
    const s = this.settings
    this.host.stats.requests++
    let values: T[]
    try {
      const decoded = decodeBody(s.format, body, query)
      const decoder = s.decoder
      const info = decoder === undefined ? undefined : { query, headers: req.headers }
      values = decoder === undefined ? (decoded as T[]) : decoded.map((v) => decoder(v, info!))
    } catch (error) {
      const reason = (error as Error).message
      this.host.stats.badRequests++
      this.host.deadLetters.send(body.toString('utf8', 0, Math.min(body.length, 1024)), reason, error)
      return answer(res, 400, { error: reason })
    }
    const header = req.headers['idempotency-key']
    const key = s.ackMode === 'checkpointed' && typeof header === 'string' && header !== '' ? header : undefined
    if (key !== undefined) {
      if (this.answers.isCovered(key)) {
        this.host.stats.duplicates++
        return answer(res, 200, { records: 0, duplicate: true })
      }
      const earlier = this.answers.waiting(key)
      if (earlier !== undefined) {
        // a retry while the first attempt still waits: answered together with it
        this.host.stats.duplicates++
        earlier.responses.push(res)
        return
      }
    }
    const admitted: Admitted<T> = { values, key, responses: [] }
    if (this.fits(values.length)) return this.admit(admitted, res)
    if (s.whenFull === 'reject') return this.reject(res)
    const held: Held<T> = { admitted, res, cancel: () => {}, expired: false }
    this.answers.track(admitted)
    held.cancel = this.processingTime.scheduleAt(this.processingTime.now() + s.holdTimeoutMs, () => {
      held.expired = true
      this.heldCount--
      if (key !== undefined) this.answers.forget(key)
      this.reject(res)
    })
    this.held.push(held)
    this.heldCount++
  }

  private fits(records: number): boolean {
    return this.buffered === 0 || this.buffered + records <= this.settings.maxBufferedRecords
  }

  private admit(admitted: Admitted<T>, res: ServerResponse): void {
    const n = admitted.values.length
    this.host.stats.records += n
    if (this.settings.ackMode === 'accepted') answer(res, 202, { records: n })
    else {
      admitted.responses.push(res)
      this.answers.track(admitted)
    }
    if (n === 0) {
      if (this.settings.ackMode === 'checkpointed') this.answers.emitted(admitted)
      return
    }
    this.queue.push(admitted)
    this.buffered += n
    this.available.signal()
  }

  /** Room was made: admit held requests in arrival order while they fit (timed-out ones are skipped). */
  private admitHeld(): void {
    for (;;) {
      const head = this.heldHead ?? this.held.shift()
      if (head === undefined) return
      if (!head.expired) {
        if (!this.fits(head.admitted.values.length)) {
          this.heldHead = head
          return
        }
        head.cancel()
        this.heldCount--
        this.admit(head.admitted, head.res)
      }
      this.heldHead = undefined
    }
  }

  private reject(res: ServerResponse): void {
    this.host.stats.rejected++
    res.setHeader('Retry-After', String(this.settings.retryAfterSeconds))
    answer(res, 503, { error: 'buffer full, retry later' })
  }

  private tooLarge(req: IncomingMessage, res: ServerResponse, bytes: number): void {
    this.host.stats.tooLarge++
    const reason = `body of ${bytes} bytes or more exceeds maxBodyBytes (${this.settings.maxBodyBytes})`
    this.host.deadLetters.send(undefined, reason)
    res.setHeader('Connection', 'close')
    answer(res, 413, { error: reason })
    // stop reading the rest: the connection closes once the answer is out
    res.once('finish', () => req.destroy())
  }

  private authorized(header: string | undefined): boolean {
    if (header === undefined) return false
    const given = Buffer.from(header)
    return given.length === this.token!.length && timingSafeEqual(given, this.token!)
  }
}

function answer(res: ServerResponse, status: number, body: object): void {
  if (res.writableEnded || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}
