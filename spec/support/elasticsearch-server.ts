import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { runPainless, type ScriptContext, ScriptError } from './painless-subset.js'
import { passValue, replayedTest } from './worker-pass/pass-context.js'

/**
 * A loopback Elasticsearch node for the sink's tests: the REST calls the sink and the client make
 * (`GET /`, `HEAD /`, `POST /_bulk`, `POST /{index}/_bulk`, `GET /{index}/_doc/{id}`) with every
 * answer carrying `x-elastic-product: Elasticsearch`, as 8.x clients require. Bulk actions index,
 * create, update (doc, doc_as_upsert, upsert, and scripts in a Painless subset with scripted_upsert:
 * see painless-subset.ts) and delete are applied in
 * order to documents kept per index with `_version`, `_seq_no` and `_primary_term`; `if_seq_no` /
 * `if_primary_term` and `version` / `version_type` (external, external_gte) are honoured with 409s as
 * Elasticsearch gives them. It keeps every request it received, and injects on demand what a healthy
 * node will not do: per-item answers (429, 5xx, 400 mapping errors), whole-request errors, slow answers
 * and dropped connections.
 */

/** A document as stored. */
export interface StoredDocument {
  readonly _index: string
  readonly _id: string
  readonly _source: Record<string, unknown>
  readonly _version: number
  readonly _seq_no: number
  readonly _primary_term: number
  readonly _routing?: string
}

/** One action of a received bulk request. */
export interface ReceivedAction {
  readonly op: 'index' | 'create' | 'update' | 'delete'
  readonly meta: Record<string, unknown>
  readonly source: Record<string, unknown> | undefined
}

/** A bulk request as received. */
export interface ReceivedBulk {
  readonly path: string
  readonly headers: IncomingMessage['headers']
  readonly actions: readonly ReceivedAction[]
  /** Over TLS: the common name of the client's certificate, if it presented one ('' without). */
  readonly clientCertificate: string | undefined
}

/** What a fault hook makes of one item: its error answer. */
export interface ItemFault {
  readonly status: number
  readonly type: string
  readonly reason: string
}

/** What a fault hook makes of one whole request. */
export type RequestFault =
  | { readonly status: number; readonly type?: string }
  /** The connection is destroyed without an answer (after the actions were applied when `afterApply`). */
  | { readonly drop: true; readonly afterApply?: boolean }

/** The 429 an overloaded node answers for an item. */
export const REJECTED: ItemFault = {
  status: 429,
  type: 'es_rejected_execution_exception',
  reason: 'rejected execution of coordinating operation',
}
/** The 400 of a document whose field does not fit the mapping. */
export const MAPPING_ERROR: ItemFault = {
  status: 400,
  type: 'document_parsing_exception',
  reason: "[1:10] failed to parse field [n] of type [long] in document. Preview of field's value: 'x'",
}
/** The 503 of an item whose primary shard is unavailable. */
export const UNAVAILABLE: ItemFault = {
  status: 503,
  type: 'unavailable_shards_exception',
  reason: 'primary shard is not active',
}

/** Options of {@link startElasticsearchServer}. */
export interface ElasticsearchServerOptions {
  /** The `Authorization` header every request must carry (else 401). */
  readonly authorization?: string
  /** Serve https with this key and certificate; with `clientCa`, only clients presenting a certificate it signed are served. */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer; readonly clientCa?: Buffer }
}

/**
 * The running server.
 *
 * @example
 * const es = await startElasticsearchServer()
 * const sink = new ElasticsearchSink({ nodes: es.url, emitter })
 * …; es.documents('logs') // what landed
 * await es.stop()
 */
export class ElasticsearchServer {
  /** Every bulk request received, faulted ones included, in arrival order. */
  readonly received: ReceivedBulk[] = []
  /** Called per item before it is applied; a fault answers the item with it instead. */
  itemFault: ((action: ReceivedAction, received: number) => ItemFault | undefined) | undefined
  /** Called per bulk request (counting from 1) before anything is applied. */
  requestFault: ((request: number) => RequestFault | undefined) | undefined
  /** Every bulk answer waits this long (a slow node). */
  delayMs = 0
  /** false: bulk actions are acknowledged (201 created) but neither applied nor kept, for load tests. */
  store = true
  /** Actions acknowledged without being stored (`store` false). */
  acknowledged = 0
  /** Bulk requests being handled now, and the most at once. */
  inFlight = 0
  maxInFlight = 0
  private readonly indices = new Map<string, Map<string, StoredDocument>>()
  private readonly seqNos = new Map<string, number>()
  private readonly sockets = new Set<Socket>()
  private itemsReceived = 0

  constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: ElasticsearchServerOptions,
  ) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
  }

  /** The documents of `index` by id (empty when it does not exist). */
  documents(index: string): Map<string, StoredDocument> {
    return this.indices.get(index) ?? new Map()
  }

  /** The sources of every document of `index`, by id. */
  sources(index: string): Map<string, Record<string, unknown>> {
    return new Map([...this.documents(index)].map(([id, doc]) => [id, doc._source]))
  }

  /** Every action received, in order, across all requests. */
  actions(): ReceivedAction[] {
    return this.received.flatMap((r) => r.actions)
  }

  /** Drops every open connection (the client sees a reset). */
  closeConnections(): void {
    for (const socket of this.sockets) socket.destroy()
  }

  stop(): Promise<void> {
    this.closeConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  /** @internal the request handler. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const url = new URL(request.url ?? '/', this.url)
    const parts = url.pathname
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent)
    if (this.options.authorization !== undefined && request.headers.authorization !== this.options.authorization)
      return answer(response, 401, errorBody(401, 'security_exception', 'missing authentication credentials'))
    if (request.method === 'HEAD' && parts.length === 0) return answer(response, 200, undefined)
    if (request.method === 'GET' && parts.length === 0) return answer(response, 200, INFO)
    if (request.method === 'GET' && parts.length === 3 && parts[1] === '_doc') {
      const doc = this.documents(parts[0]!).get(parts[2]!)
      return answer(
        response,
        doc === undefined ? 404 : 200,
        doc === undefined ? { _index: parts[0], _id: parts[2], found: false } : { ...doc, found: true },
      )
    }
    const bulk = parts[parts.length - 1] === '_bulk' && parts.length <= 2
    if (request.method !== 'POST' && request.method !== 'PUT')
      return answer(response, 405, errorBody(405, 'method', ''))
    if (!bulk)
      return answer(response, 400, errorBody(400, 'illegal_argument_exception', `no handler for ${url.pathname}`))
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    try {
      await this.bulk(
        parts.length === 2 ? parts[0] : undefined,
        Buffer.concat(chunks).toString('utf8'),
        request,
        response,
      )
    } finally {
      this.inFlight--
    }
  }

  private async bulk(
    defaultIndex: string | undefined,
    body: string,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    let actions: ReceivedAction[]
    try {
      actions = parseBulk(body, defaultIndex)
    } catch (error) {
      return answer(response, 400, errorBody(400, 'x_content_parse_exception', (error as Error).message))
    }
    if (!this.store) {
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs))
      this.acknowledged += actions.length
      const items = actions.map((a) => ({
        [a.op]: { _index: a.meta._index, _id: a.meta._id, status: 201, result: 'created' },
      }))
      return answer(response, 200, { took: 0, errors: false, items })
    }
    const socket = request.socket as TLSSocket
    const clientCertificate = socket.encrypted ? String(socket.getPeerCertificate().subject?.CN ?? '') : undefined
    this.received.push({ path: request.url ?? '', headers: request.headers, actions, clientCertificate })
    const fault = this.requestFault?.(this.received.length)
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs))
    if (fault !== undefined && !('drop' in fault))
      return answer(
        response,
        fault.status,
        errorBody(fault.status, fault.type ?? 'es_rejected_execution_exception', 'injected'),
      )
    if (fault !== undefined && !fault.afterApply) {
      request.socket.destroy()
      return
    }
    const started = performance.now()
    const items = actions.map((action) => this.apply(action))
    if (fault !== undefined) {
      request.socket.destroy()
      return
    }
    answer(response, 200, {
      took: Math.round(performance.now() - started),
      errors: items.some((item) => 'error' in (Object.values(item)[0] as object)),
      items,
    })
  }

  private apply(action: ReceivedAction): Record<string, unknown> {
    const received = ++this.itemsReceived
    const index = String(action.meta._index ?? '')
    const id = action.meta._id === undefined ? undefined : String(action.meta._id)
    const head = { _index: index, _id: id }
    const fail = (status: number, type: string, reason: string, causedBy?: unknown) => ({
      [action.op]: {
        ...head,
        status,
        error: { type, reason, index, ...(causedBy === undefined ? {} : { caused_by: causedBy }) },
      },
    })
    const fault = this.itemFault?.(action, received)
    if (fault !== undefined) return fail(fault.status, fault.type, fault.reason)
    if (index === '' || index !== index.toLowerCase() || /^[_\-+]/.test(index))
      return fail(400, 'invalid_index_name_exception', `Invalid index name [${index}], must be lowercase`)
    const docs = this.indexOf(index)
    const docId = id ?? `auto-${received}`
    const current = docs.get(docId)
    const conflict = this.conflict(action, current)
    if (conflict !== undefined) return fail(409, 'version_conflict_engine_exception', `[${docId}]: ${conflict}`)
    const routing = action.meta.routing ?? current?._routing
    const write = (source: Record<string, unknown>, status: number, result: string, version?: number) => {
      const seqNo = this.nextSeqNo(index)
      const doc: StoredDocument = {
        _index: index,
        _id: docId,
        _source: source,
        _version: version ?? (current?._version ?? 0) + 1,
        _seq_no: seqNo,
        _primary_term: 1,
        ...(routing === undefined ? {} : { _routing: String(routing) }),
      }
      docs.set(docId, doc)
      return {
        [action.op]: {
          ...head,
          _id: docId,
          _version: doc._version,
          result,
          _shards: { total: 1, successful: 1, failed: 0 },
          _seq_no: seqNo,
          _primary_term: 1,
          status,
        },
      }
    }
    const external = action.meta.version_type === 'external' || action.meta.version_type === 'external_gte'
    const version = external ? Number(action.meta.version) : undefined
    switch (action.op) {
      case 'index':
        return write(
          action.source ?? {},
          current === undefined ? 201 : 200,
          current === undefined ? 'created' : 'updated',
          version,
        )
      case 'create':
        if (current !== undefined)
          return fail(409, 'version_conflict_engine_exception', `[${docId}]: version conflict, document already exists`)
        return write(action.source ?? {}, 201, 'created', version)
      case 'update': {
        const body = action.source ?? {}
        if (body.script !== undefined) return this.scriptUpdate(action, body, current, write, fail)
        const doc = body.doc as Record<string, unknown> | undefined
        if (current === undefined) {
          if (body.doc_as_upsert === true && doc !== undefined) return write(doc, 201, 'created')
          if (body.upsert !== undefined) return write(body.upsert as Record<string, unknown>, 201, 'created')
          return fail(404, 'document_missing_exception', `[${docId}]: document missing`)
        }
        return write(merge(current._source, doc ?? {}), 200, 'updated')
      }
      case 'delete': {
        if (current === undefined)
          return {
            delete: {
              ...head,
              _version: 1,
              result: 'not_found',
              _seq_no: this.nextSeqNo(index),
              _primary_term: 1,
              status: 404,
            },
          }
        docs.delete(docId)
        return {
          delete: {
            ...head,
            _version: current._version + 1,
            result: 'deleted',
            _shards: { total: 1, successful: 1, failed: 0 },
            _seq_no: this.nextSeqNo(index),
            _primary_term: 1,
            status: 200,
          },
        }
      }
    }
  }

  /**
   * An update by script, as Elasticsearch runs it: on the stored source; on a missing document the
   * `upsert` is inserted without running the script, or with `scripted_upsert` the script runs on it;
   * `ctx.op` 'noop' leaves the document (and its version) alone, 'delete' deletes it; a script outside
   * the Painless subset, or failing, answers 400 `script_exception`.
   */
  private scriptUpdate(
    action: ReceivedAction,
    body: Record<string, unknown>,
    current: StoredDocument | undefined,
    write: (source: Record<string, unknown>, status: number, result: string) => Record<string, unknown>,
    fail: (status: number, type: string, reason: string, causedBy?: unknown) => Record<string, unknown>,
  ): Record<string, unknown> {
    const script = body.script as { source?: unknown; lang?: unknown; params?: Record<string, unknown> }
    if (script.lang !== undefined && script.lang !== 'painless')
      return fail(400, 'illegal_argument_exception', `script_lang not supported [${String(script.lang)}]`)
    if (typeof script.source !== 'string') return fail(400, 'illegal_argument_exception', 'a script needs a source')
    const upsert = body.upsert as Record<string, unknown> | undefined
    if (current === undefined && body.scripted_upsert !== true) {
      if (upsert !== undefined) return write(upsert, 201, 'created')
      return fail(404, 'document_missing_exception', `[${String(action.meta._id)}]: document missing`)
    }
    const ctx: ScriptContext = {
      _source: structuredClone(current?._source ?? upsert ?? {}),
      op: current === undefined ? 'create' : 'index',
    }
    try {
      runPainless(script.source, script.params ?? {}, ctx)
    } catch (error) {
      if (!(error instanceof ScriptError)) throw error
      return fail(400, 'illegal_argument_exception', 'failed to execute script', {
        type: 'script_exception',
        reason: error.kind,
        caused_by: { type: error.javaException, reason: error.message },
      })
    }
    const index = String(action.meta._index)
    const head = { _index: index, _id: String(action.meta._id), _version: current?._version ?? 0 }
    if (ctx.op === 'noop') return { update: { ...head, result: 'noop', status: 200 } }
    if (ctx.op === 'delete') {
      if (current !== undefined) this.indexOf(index).delete(String(action.meta._id))
      return { update: { ...head, result: current === undefined ? 'noop' : 'deleted', status: 200 } }
    }
    return current === undefined ? write(ctx._source, 201, 'created') : write(ctx._source, 200, 'updated')
  }

  /** Why the action's concurrency condition does not hold, if it does not. */
  private conflict(action: ReceivedAction, current: StoredDocument | undefined): string | undefined {
    const { if_seq_no: ifSeqNo, if_primary_term: ifPrimaryTerm, version, version_type: type } = action.meta
    if (ifSeqNo !== undefined || ifPrimaryTerm !== undefined) {
      if (current === undefined)
        return `required seqNo [${ifSeqNo}], primary term [${ifPrimaryTerm}] but no document was found`
      if (current._seq_no !== ifSeqNo || current._primary_term !== ifPrimaryTerm)
        return `required seqNo [${ifSeqNo}], primary term [${ifPrimaryTerm}]. current document has seqNo [${current._seq_no}] and primary term [${current._primary_term}]`
    }
    if (version !== undefined && current !== undefined) {
      const v = Number(version)
      if (type === 'external' && !(v > current._version))
        return `version conflict, current version [${current._version}] is higher or equal to the one provided [${v}]`
      if (type === 'external_gte' && !(v >= current._version))
        return `version conflict, current version [${current._version}] is higher than the one provided [${v}]`
      if ((type === undefined || type === 'internal') && v !== current._version)
        return `version conflict, current version [${current._version}] is different than the one provided [${v}]`
    }
    return undefined
  }

  private indexOf(index: string): Map<string, StoredDocument> {
    let docs = this.indices.get(index)
    if (docs === undefined) {
      docs = new Map()
      this.indices.set(index, docs)
    }
    return docs
  }

  private nextSeqNo(index: string): number {
    const next = (this.seqNos.get(index) ?? -1) + 1
    this.seqNos.set(index, next)
    return next
  }
}

/**
 * Starts a server on a free loopback port. In a worker of the worker-executor test pass replaying a
 * test, the server is the coordinator's: the worker gets its port (`passValue`) and starts nothing;
 * what the test sets on the server (faults, delays) and reads from it is the coordinator's to do.
 *
 * @example
 * const es = await startElasticsearchServer({ authorization: 'ApiKey abc' })
 * const secure = await startElasticsearchServer({ tls: selfSignedCertificate() }) // https://
 */
export async function startElasticsearchServer(options: ElasticsearchServerOptions = {}): Promise<ElasticsearchServer> {
  // the port, in a slot taken at the call (so that concurrent calls keep their order in a replaying worker)
  const port = new Int32Array(passValue(() => new SharedArrayBuffer(4)))
  const scheme = options.tls === undefined ? 'http' : 'https'
  // a stand-in that never listens: the sink in the worker talks to the coordinator's server
  if (replayedTest() !== undefined)
    return new ElasticsearchServer(createServer(), `${scheme}://127.0.0.1:${Atomics.load(port, 0)}`, options)
  let es!: ElasticsearchServer
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    es.handle(request, response).catch((error) => {
      if (!response.headersSent) answer(response, 500, errorBody(500, 'exception', String(error)))
    })
  }
  const { tls } = options
  const server =
    tls === undefined
      ? createServer(handler)
      : createHttpsServer(
          {
            key: tls.key,
            cert: tls.cert,
            ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true }),
          },
          handler,
        )
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  Atomics.store(port, 0, (server.address() as { port: number }).port)
  es = new ElasticsearchServer(server, `${scheme}://127.0.0.1:${Atomics.load(port, 0)}`, options)
  return es
}

const INFO = {
  name: 'loopback',
  cluster_name: 'sluice-test',
  cluster_uuid: 'loopback-cluster',
  version: {
    number: '8.19.2',
    build_flavor: 'default',
    build_type: 'tar',
    lucene_version: '9.12.2',
    minimum_wire_compatibility_version: '7.17.0',
    minimum_index_compatibility_version: '7.0.0',
  },
  tagline: 'You Know, for Search',
}

function parseBulk(body: string, defaultIndex: string | undefined): ReceivedAction[] {
  const lines = body.split('\n').filter((line) => line.trim() !== '')
  const actions: ReceivedAction[] = []
  for (let i = 0; i < lines.length; i++) {
    const header = JSON.parse(lines[i]!) as Record<string, Record<string, unknown>>
    const op = Object.keys(header)[0] as ReceivedAction['op']
    if (!['index', 'create', 'update', 'delete'].includes(op))
      throw new Error(`Unknown key for a START_OBJECT in [${op}]`)
    const meta = { ...header[op] }
    if (meta._index === undefined && defaultIndex !== undefined) meta._index = defaultIndex
    const source = op === 'delete' ? undefined : (JSON.parse(lines[++i] ?? 'null') as Record<string, unknown>)
    actions.push({ op, meta, source })
  }
  return actions
}

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target }
  for (const [key, value] of Object.entries(patch)) {
    const old = out[key]
    out[key] = isPlainObject(old) && isPlainObject(value) ? merge(old, value) : value
  }
  return out
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function errorBody(status: number, type: string, reason: string): unknown {
  return { error: { root_cause: [{ type, reason }], type, reason }, status }
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/vnd.elasticsearch+json;compatible-with=8',
    'x-elastic-product': 'Elasticsearch',
    'content-length': Buffer.byteLength(text),
  })
  response.end(text)
}
