import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { passValue, replayedTest } from './worker-pass/pass-context.js'

/** A tweet the server holds: published at `created_at`, delivered to streams that match it. */
export interface ServerTweet {
  readonly id: string
  readonly text: string
  readonly created_at: string
  readonly author_id: string
  readonly lang: string
}

/** One request the server received, as it came (the Authorization header included, for redaction checks). */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly query: Record<string, string>
  readonly authorization: string | undefined
  readonly body: string
}

/** A stream connection that is open. */
interface OpenStream {
  readonly kind: 'filtered' | 'sample'
  readonly res: ServerResponse
  readonly query: URLSearchParams
}

interface Rule {
  readonly id: string
  readonly value: string
  readonly tag?: string
}

const TWEET_FIELDS = [
  'attachments',
  'author_id',
  'context_annotations',
  'conversation_id',
  'created_at',
  'edit_history_tweet_ids',
  'entities',
  'geo',
  'id',
  'in_reply_to_user_id',
  'lang',
  'public_metrics',
  'possibly_sensitive',
  'referenced_tweets',
  'reply_settings',
  'source',
  'text',
  'withheld',
]
const EXPANSIONS = [
  'author_id',
  'referenced_tweets.id',
  'in_reply_to_user_id',
  'attachments.media_keys',
  'attachments.poll_ids',
  'geo.place_id',
  'entities.mentions.username',
  'referenced_tweets.id.author_id',
  'edit_history_tweet_ids',
]
const USER_FIELDS = [
  'created_at',
  'description',
  'id',
  'name',
  'username',
  'verified',
  'public_metrics',
  'location',
  'url',
  'protected',
  'profile_image_url',
]
const RULES_PATH = '/2/tweets/search/stream/rules'

/**
 * A loopback server for X's v2 streaming API as documented (developer.x.com filtered stream and
 * volume streams), for the Twitter source's tests: `GET /2/tweets/search/stream` and
 * `/2/tweets/sample/stream` (`\r\n`-delimited JSON messages, keep-alive `\r\n`, `tweet.fields`,
 * `user.fields`, `expansions=author_id`, `backfill_minutes` 1–5 replaying the tweets created in those
 * minutes, one connection per app: a second gets 429 TooManyConnections), and
 * `GET/POST /2/tweets/search/stream/rules` (add, delete by ids, `dry_run`, invalid rules answered in
 * X's `errors` shape). Bearer-token auth (401 in X's problem shape), `x-rate-limit-*` headers on
 * every answer. Faults on demand: answer the next stream requests with a status (429 with a reset),
 * cut every stream mid-message, send X's operational-disconnect message, send a raw line. It keeps
 * every request it received and every tweet it published.
 *
 * @example
 * const x = await XStreamServer.start({ token: 'secret' })
 * x.addRule('cats', 'cats'); x.publish(100)
 * await x.stop()
 */
export class XStreamServer {
  readonly requests: RecordedRequest[] = []
  readonly tweets: ServerTweet[] = []
  readonly rules = new Map<string, Rule>()
  private readonly streams = new Set<OpenStream>()
  private readonly sockets = new Set<Socket>()
  private readonly planned: Array<{ status: number; resetInSeconds?: number }> = []
  private server: Server
  private nextId = 1_600_000_000_000_000_000n
  private nextRuleId = 1_000
  private keepAliveTimer: NodeJS.Timeout | undefined
  private firstBytes: Buffer | undefined
  /**
   * Each message is written as three HTTP chunks — its bytes cut inside its first multi-byte character
   * (or in the middle), the rest, and the `\r\n` delimiter alone — as X may: it does not promise that
   * messages fall on chunk boundaries.
   */
  cutMessages = false
  /** A stand-in for the coordinator's server (a replaying worker of the worker-executor test pass): it never listens. */
  private coordinators = false
  port = 0

  private constructor(
    readonly token: string,
    keepAliveMs: number,
  ) {
    this.server = this.makeServer()
    if (keepAliveMs > 0) {
      this.keepAliveTimer = setInterval(() => this.keepAlive(), keepAliveMs)
      this.keepAliveTimer.unref()
    }
  }

  /**
   * Starts on a free loopback port (or `port`); keep-alives every `keepAliveMs` (0: only by `keepAlive()`).
   * In a worker of the worker-executor test pass replaying a test, a stand-in for the coordinator's
   * server on its port (`passValue`) that never listens: the worker's source talks to the coordinator's.
   */
  static async start(options: { token?: string; port?: number; keepAliveMs?: number } = {}): Promise<XStreamServer> {
    // the port, in a slot taken at the call (so that concurrent calls keep their order in a replaying worker)
    const port = new Int32Array(passValue(() => new SharedArrayBuffer(4)))
    const replaying = replayedTest() !== undefined
    const x = new XStreamServer(options.token ?? 'test-bearer-token', replaying ? 0 : (options.keepAliveMs ?? 0))
    if (replaying) {
      x.coordinators = true
      x.port = Atomics.load(port, 0)
      return x
    }
    await x.listen(options.port ?? 0)
    Atomics.store(port, 0, x.port)
    return x
  }

  /** The base URL a client's v2 prefix is set to. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/2/`
  }

  /** Open stream connections. */
  get connections(): number {
    return this.streams.size
  }

  /** Stream requests received so far (each connect, successful or not). */
  streamRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/stream'))
  }

  addRule(value: string, tag?: string): Rule {
    const rule = { id: String(this.nextRuleId++), value, ...(tag === undefined ? {} : { tag }) }
    this.rules.set(rule.id, rule)
    return rule
  }

  /** Publishes `count` tweets now (text `tweet <n> <words>`), delivering each to the matching open streams. */
  publish(count: number, words = 'cats'): ServerTweet[] {
    const out: ServerTweet[] = []
    for (let i = 0; i < count; i++) {
      const id = String(this.nextId++)
      const tweet: ServerTweet = {
        id,
        text: `tweet ${this.tweets.length} ${words}`,
        created_at: new Date().toISOString(),
        author_id: String(100 + (this.tweets.length % 7)),
        lang: 'en',
      }
      this.tweets.push(tweet)
      out.push(tweet)
      for (const stream of this.streams) this.deliver(stream, tweet)
    }
    return out
  }

  /**
   * The next stream connection is sent `bytes` first (ready-made `\r\n`-delimited messages), as fast
   * as the client reads them: a benchmark's load, rendered before the timing starts.
   */
  sendOnNextStream(bytes: Buffer): void {
    this.firstBytes = bytes
  }

  /** Writes a keep-alive `\r\n` to every open stream. */
  keepAlive(): void {
    for (const s of this.streams) s.res.write('\r\n')
  }

  /** Writes `line` + `\r\n` as it is to every open stream (a malformed message). */
  sendRaw(line: string): void {
    for (const s of this.streams) s.res.write(`${line}\r\n`)
  }

  /** X's operational-disconnect message on every open stream, then the connection is closed. */
  operationalDisconnect(): void {
    const message = {
      errors: [
        {
          title: 'operational-disconnect',
          disconnect_type: 'UpstreamOperationalDisconnect',
          detail: 'This stream has been disconnected upstream for operational reasons.',
          type: 'https://api.twitter.com/2/problems/operational-disconnect',
        },
      ],
    }
    for (const s of [...this.streams]) {
      s.res.end(`${JSON.stringify(message)}\r\n`)
      this.streams.delete(s)
    }
  }

  /** Cuts every open stream in the middle of a message (half a JSON line, then a reset). */
  disconnectAll(): void {
    for (const s of [...this.streams]) {
      s.res.write('{"data":{"id":"17')
      s.res.socket?.destroy()
      this.streams.delete(s)
    }
  }

  /** The next stream requests are answered with these statuses (429 with `x-rate-limit-reset` now + resetInSeconds). */
  failNextStreams(...answers: Array<{ status: number; resetInSeconds?: number }>): void {
    this.planned.push(...answers)
  }

  /** Closes the listener and every connection (a restart listens on the same port again). */
  async stop(): Promise<void> {
    for (const s of this.streams) s.res.destroy()
    this.streams.clear()
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** Stops, then listens again on the same port (the tweets and rules are kept). */
  async restart(downMs = 0): Promise<void> {
    await this.stop()
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs))
    this.server = this.makeServer()
    await this.listen(this.port)
  }

  /** Stops for good, keep-alive timer included. */
  async close(): Promise<void> {
    clearInterval(this.keepAliveTimer)
    await this.stop()
  }

  private makeServer(): Server {
    const server = createServer((req, res) => this.handle(req, res))
    server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
    })
    return server
  }

  private listen(port: number): Promise<void> {
    if (this.coordinators) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port
        resolve()
      })
    })
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x')
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      this.requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        authorization: req.headers.authorization,
        body,
      })
      this.rateHeaders(res, undefined)
      if (req.headers.authorization !== `Bearer ${this.token}`)
        return json(res, 401, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' })
      if (url.pathname === RULES_PATH && req.method === 'GET') return this.listRules(res)
      if (url.pathname === RULES_PATH && req.method === 'POST') return this.changeRules(res, url.searchParams, body)
      if (req.method === 'GET' && url.pathname === '/2/tweets/search/stream')
        return this.openStream('filtered', url.searchParams, res)
      if (req.method === 'GET' && url.pathname === '/2/tweets/sample/stream')
        return this.openStream('sample', url.searchParams, res)
      json(res, 404, {
        title: 'Not Found Error',
        detail: `no route ${url.pathname}`,
        type: 'https://api.twitter.com/2/problems/resource-not-found',
      })
    })
  }

  /** X's rate-limit headers: a window of 50 requests per 15 minutes, used up when `resetInSeconds` is given. */
  private rateHeaders(res: ServerResponse, resetInSeconds: number | undefined): void {
    res.setHeader('x-rate-limit-limit', '50')
    res.setHeader('x-rate-limit-remaining', resetInSeconds === undefined ? '49' : '0')
    res.setHeader('x-rate-limit-reset', String(Math.ceil(Date.now() / 1000 + (resetInSeconds ?? 900))))
  }

  private openStream(kind: 'filtered' | 'sample', query: URLSearchParams, res: ServerResponse): void {
    const invalid = this.invalidParameters(query)
    if (invalid !== undefined) return json(res, 400, invalid)
    const planned = this.planned.shift()
    if (planned !== undefined) {
      if (planned.status === 429) {
        this.rateHeaders(res, planned.resetInSeconds ?? 1)
        return json(res, 429, {
          title: 'Too Many Requests',
          detail: 'Too Many Requests',
          type: 'about:blank',
          status: 429,
        })
      }
      return json(res, planned.status, {
        title: 'Service Unavailable',
        detail: 'planned failure',
        type: 'about:blank',
        status: planned.status,
      })
    }
    if (this.streams.size > 0)
      return json(res, 429, {
        title: 'ConnectionException',
        detail: 'This stream is currently at the maximum allowed connection limit.',
        connection_issue: 'TooManyConnections',
        type: 'https://api.twitter.com/2/problems/streaming-connection',
      })
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Transfer-Encoding': 'chunked' })
    res.flushHeaders()
    const stream: OpenStream = { kind, res, query }
    this.streams.add(stream)
    res.once('close', () => this.streams.delete(stream))
    const bytes = this.firstBytes
    this.firstBytes = undefined
    if (bytes !== undefined) writeWithBackpressure(res, bytes)
    const minutes = Number(query.get('backfill_minutes') ?? 0)
    if (minutes > 0) {
      const since = Date.now() - minutes * 60_000
      for (const tweet of this.tweets) if (Date.parse(tweet.created_at) >= since) this.deliver(stream, tweet)
    }
  }

  /** X's 400 for an unknown field, expansion or a backfill outside 1–5, or undefined. */
  private invalidParameters(query: URLSearchParams): object | undefined {
    const checks: Array<[string, string[]]> = [
      ['tweet.fields', TWEET_FIELDS],
      ['user.fields', USER_FIELDS],
      ['expansions', EXPANSIONS],
    ]
    const errors: object[] = []
    for (const [name, allowed] of checks) {
      const given = query.get(name)
      if (given === null) continue
      const bad = given.split(',').filter((v) => !allowed.includes(v))
      if (bad.length > 0)
        errors.push({
          parameters: { [name]: bad },
          message: `The \`${name}\` query parameter value [${bad.join(',')}] is not one of [${allowed.join(',')}]`,
        })
    }
    const backfill = query.get('backfill_minutes')
    if (backfill !== null && !/^[1-5]$/.test(backfill))
      errors.push({
        parameters: { backfill_minutes: [backfill] },
        message: `The \`backfill_minutes\` query parameter value [${backfill}] is not between 1 and 5`,
      })
    if (errors.length === 0) return undefined
    return {
      errors,
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.twitter.com/2/problems/invalid-request',
    }
  }

  private deliver(stream: OpenStream, tweet: ServerTweet): void {
    const matching =
      stream.kind === 'sample'
        ? []
        : [...this.rules.values()]
            .filter((r) => tweet.text.includes(r.value))
            .map((r) => ({ id: r.id, ...(r.tag === undefined ? {} : { tag: r.tag }) }))
    if (stream.kind === 'filtered' && matching.length === 0) return
    const fields = (stream.query.get('tweet.fields') ?? '').split(',')
    const data: Record<string, unknown> = { id: tweet.id, text: tweet.text, edit_history_tweet_ids: [tweet.id] }
    for (const f of fields) if (f in tweet) data[f] = tweet[f as keyof ServerTweet]
    const message: Record<string, unknown> = { data }
    if ((stream.query.get('expansions') ?? '').split(',').includes('author_id'))
      message.includes = {
        users: [{ id: tweet.author_id, name: `User ${tweet.author_id}`, username: `user${tweet.author_id}` }],
      }
    if (stream.kind === 'filtered') message.matching_rules = matching
    if (!this.cutMessages) {
      stream.res.write(`${JSON.stringify(message)}\r\n`)
      return
    }
    const bytes = Buffer.from(JSON.stringify(message))
    const wide = bytes.findIndex((b) => b >= 0xc0)
    const cut = wide >= 0 ? wide + 1 : bytes.length >> 1
    stream.res.write(bytes.subarray(0, cut))
    stream.res.write(bytes.subarray(cut))
    stream.res.write('\r\n')
  }

  private listRules(res: ServerResponse): void {
    const data = [...this.rules.values()]
    const meta = { sent: new Date().toISOString(), result_count: data.length }
    json(res, 200, data.length === 0 ? { meta } : { data, meta })
  }

  private changeRules(res: ServerResponse, query: URLSearchParams, body: string): void {
    const dryRun = query.get('dry_run') === 'true'
    let request: { add?: Array<{ value?: unknown; tag?: unknown }>; delete?: { ids?: unknown[] } }
    try {
      request = JSON.parse(body)
    } catch {
      return json(res, 400, {
        title: 'Invalid Request',
        detail: 'the body is not JSON',
        type: 'https://api.twitter.com/2/problems/invalid-request',
      })
    }
    const sent = new Date().toISOString()
    if (Array.isArray(request.add)) {
      const errors: object[] = []
      const valid: Rule[] = []
      for (const r of request.add) {
        const value = String(r.value ?? '')
        const problem = ruleProblem(value, [...this.rules.values()].concat(valid))
        if (problem !== undefined) errors.push({ value, ...problem })
        else
          valid.push({
            id: String(this.nextRuleId + valid.length),
            value,
            ...(typeof r.tag === 'string' ? { tag: r.tag } : {}),
          })
      }
      // X creates none of the rules when one is invalid
      const create = errors.length === 0 && !dryRun
      if (create) for (const rule of valid) this.rules.set(rule.id, rule)
      if (create) this.nextRuleId += valid.length
      const summary = {
        created: create ? valid.length : 0,
        not_created: create ? 0 : request.add.length,
        valid: valid.length,
        invalid: errors.length,
      }
      return json(res, errors.length === 0 ? 201 : 200, {
        ...(valid.length > 0 && errors.length === 0 ? { data: valid } : {}),
        meta: { sent, summary },
        ...(errors.length > 0 ? { errors } : {}),
      })
    }
    if (request.delete !== undefined && Array.isArray(request.delete.ids)) {
      const ids = request.delete.ids.map(String)
      const missing = ids.filter((id) => !this.rules.has(id))
      if (!dryRun) for (const id of ids) this.rules.delete(id)
      return json(res, 200, {
        meta: { sent, summary: { deleted: ids.length - missing.length, not_deleted: missing.length } },
        ...(missing.length > 0
          ? {
              errors: missing.map((id) => ({
                errors: [{ parameters: {}, message: 'Rule does not exist' }],
                title: 'Invalid Request',
                detail: `rule ${id} does not exist`,
                type: 'https://api.twitter.com/2/problems/invalid-request',
              })),
            }
          : {}),
      })
    }
    json(res, 400, {
      errors: [{ message: 'Request must contain add or delete' }],
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.twitter.com/2/problems/invalid-request',
    })
  }
}

/** X's objection to a rule value (title and details), or undefined when it is valid. */
function ruleProblem(
  value: string,
  existing: readonly Rule[],
): { title: string; details: string[]; type: string } | undefined {
  const invalid = (details: string[]) => ({
    title: 'UnprocessableEntity',
    details,
    type: 'https://api.twitter.com/2/problems/invalid-rules',
  })
  if (value.trim() === '') return invalid(['Rules must contain a non-negation term'])
  if (value.length > 512) return invalid(['Rule length exceeds 512 characters'])
  let depth = 0
  for (const c of value) {
    if (c === '(') depth++
    if (c === ')' && --depth < 0) break
  }
  if (depth !== 0) return invalid([`There are unbalanced parentheses in rule: ${value}`])
  if (existing.some((r) => r.value === value))
    return { title: 'DuplicateRule', details: [], type: 'https://api.twitter.com/2/problems/duplicate-rules' }
  return undefined
}

/** Writes `bytes` in 64 KiB slices, waiting for 'drain' whenever the socket's buffer is full. */
function writeWithBackpressure(res: ServerResponse, bytes: Buffer): void {
  let offset = 0
  const more = (): void => {
    while (offset < bytes.length && !res.destroyed) {
      const slice = bytes.subarray(offset, offset + 65_536)
      offset += slice.length
      if (!res.write(slice)) {
        res.once('drain', more)
        return
      }
    }
  }
  more()
}

function json(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  })
  res.end(text)
}
