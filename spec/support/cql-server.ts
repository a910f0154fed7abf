import { createHash } from 'node:crypto'
import { createServer, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { CqlReader, type CqlType, CqlWriter, decodeValue, encodeValue, type UNSET } from './cql-codec.js'
import { type CqlStatement, CqlStatementError, type CqlTable, parseStatement, runStatement } from './cql-tables.js'

/**
 * A Cassandra node for the faults a real single node will not show on demand: it speaks the CQL
 * native protocol v4 (native_protocol_v4.spec) as cassandra-driver 4 needs it — the version
 * negotiation (a STARTUP at another version is answered PROTOCOL_ERROR "Invalid or unsupported
 * protocol version"), STARTUP → READY, OPTIONS → SUPPORTED, REGISTER → READY, the control
 * connection's system.local (one row) / system.peers / system_schema queries (no rows), and QUERY,
 * PREPARE (RESULT Prepared with bind-marker metadata), EXECUTE (UNPREPARED 0x2500 for an unknown id)
 * and BATCH of the CQL subset of {@link parseStatement} against tables the test defines. Every request
 * to a user table is kept in `received` with its decoded values, consistency, timestamp and batch type;
 * `answer` decides per request whether it is applied or answered with an error: Overloaded (0x1001),
 * Unavailable (0x1000), Write_timeout (0x1100, with its write type), Read_timeout (0x1200) — a write
 * timeout may also be applied first, as a real coordinator's can be — or no answer at all.
 * Optionally it serves over TLS, asks for a login as PasswordAuthenticator does (AUTHENTICATE, a SASL
 * PLAIN AUTH_RESPONSE, AUTH_SUCCESS or an authentication error), and answers user requests slowly.
 */

/** An error the server answers instead of running a request. */
export type CqlFault =
  | { readonly kind: 'overloaded' }
  | { readonly kind: 'unavailable'; readonly required?: number; readonly alive?: number }
  | {
      readonly kind: 'write-timeout'
      readonly writeType: 'SIMPLE' | 'BATCH' | 'UNLOGGED_BATCH' | 'BATCH_LOG' | 'COUNTER' | 'CAS'
      /** The write was applied before the timeout (a coordinator's timeout does not undo it). */
      readonly applied?: boolean
    }
  | { readonly kind: 'read-timeout'; readonly dataPresent?: boolean }
  | { readonly kind: 'invalid'; readonly message: string }

/** How the server answers one request: 'apply' it, a fault, or 'hang' (never answer). */
export type CqlAnswer = 'apply' | 'hang' | CqlFault

/** A request to a user table, as received. */
export interface CqlRequest {
  readonly opcode: 'QUERY' | 'EXECUTE' | 'BATCH'
  readonly batchType?: 'LOGGED' | 'UNLOGGED' | 'COUNTER'
  /** Each statement's text and its bound values decoded by column type (null, the unset symbol). */
  readonly statements: ReadonlyArray<{ readonly query: string; readonly values: readonly unknown[] }>
  /** The consistency level's protocol code (0x0006 LOCAL_QUORUM, 0x0001 ONE, …). */
  readonly consistency: number
  readonly serialConsistency: number | undefined
  /** The protocol's default timestamp (µs), when the client sent one. */
  readonly timestamp: bigint | undefined
  /** What the server answered. */
  answer?: CqlAnswer
}

const OPCODE = {
  ERROR: 0x00,
  STARTUP: 0x01,
  READY: 0x02,
  AUTHENTICATE: 0x03,
  OPTIONS: 0x05,
  SUPPORTED: 0x06,
  QUERY: 0x07,
  RESULT: 0x08,
  PREPARE: 0x09,
  EXECUTE: 0x0a,
  REGISTER: 0x0b,
  BATCH: 0x0d,
  AUTH_RESPONSE: 0x0f,
  AUTH_SUCCESS: 0x10,
} as const
const SERVER_ERROR = 0x0000
const PROTOCOL_ERROR = 0x000a
const BAD_CREDENTIALS = 0x0100

/** Options of {@link CqlTestServer.start}. */
export interface CqlTestServerOptions {
  /** Ask every connection for this login, as a node with PasswordAuthenticator does. */
  readonly credentials?: { readonly username: string; readonly password: string }
  /** Serve over TLS with this key and certificate. */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer }
}

const HOST_ID = '2f1f6a4e8b8c4b5aa3a8e2f0c0d0e0f0'
const SCHEMA_VERSION = '5d9b1f3c2a7e4e1f9c0b8a7d6e5f4a3b'

/**
 * Starts the server on a free loopback port.
 *
 * @example
 * const node = await CqlTestServer.start()
 * const secured = await CqlTestServer.start({ credentials: { username: 'u', password: 'p' }, tls: selfSignedCertificate() })
 * node.defineTable('shop.orders', { id: 'int', item: 'text' }, ['id'])
 * node.answer = (_r, n) => (n === 0 ? { kind: 'overloaded' } : 'apply')
 * // cassandraSink({ contactPoints: [node.contactPoint], localDataCenter: node.dataCenter, … })
 * await node.close()
 */
export class CqlTestServer {
  readonly dataCenter = 'dc1'
  /** Every request to a user table, in arrival order. */
  readonly received: CqlRequest[] = []
  /** Decides the answer to the `n`th request to a user table (0-based); default 'apply'. */
  answer: (request: CqlRequest, n: number) => CqlAnswer = () => 'apply'
  /** Connections accepted so far. */
  connections = 0
  /** The user names of the logins that succeeded, and of those refused, in order. */
  readonly logins: Array<{ readonly username: string; readonly accepted: boolean }> = []
  /** Every user request is answered (or applied) this long after it arrives: a slow node. */
  delayMs = 0
  /** User requests received and not yet answered, and the most at once. */
  inFlight = 0
  maxInFlight = 0
  private readonly tables = new Map<string, CqlTable>()
  private readonly prepared = new Map<string, { query: string; statement: CqlStatement | undefined }>()
  private readonly sockets = new Set<Socket>()
  private readonly server
  private readonly authenticated = new WeakSet<Socket>()
  private port_ = 0

  private constructor(private readonly options: CqlTestServerOptions) {
    const { tls } = options
    this.server =
      tls === undefined
        ? createServer((socket) => this.accept(socket))
        : createTlsServer({ key: tls.key, cert: tls.cert }, (socket) => this.accept(socket))
  }

  static async start(options: CqlTestServerOptions = {}): Promise<CqlTestServer> {
    const node = new CqlTestServer(options)
    await new Promise<void>((resolve, reject) => {
      node.server.once('error', reject)
      node.server.listen(0, '127.0.0.1', () => resolve())
    })
    node.port_ = (node.server.address() as { port: number }).port
    return node
  }

  /** '127.0.0.1:port'. */
  get contactPoint(): string {
    return `127.0.0.1:${this.port_}`
  }

  /** Defines a table (`keyspace.table`) with its column types and primary key columns. */
  defineTable(name: string, columns: Record<string, CqlType>, primaryKey: string[]): void {
    const [keyspace, table] = name.toLowerCase().split('.') as [string, string]
    this.tables.set(`${keyspace}.${table}`, { keyspace, name: table, columns, primaryKey, rows: new Map() })
  }

  /** The rows of a table, in insertion order. */
  rows(name: string): Array<Record<string, unknown>> {
    return [...(this.tables.get(name.toLowerCase())?.rows.values() ?? [])]
  }

  /** Drops every connection (the client sees the node go away) and stops listening. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(socket: Socket): void {
    this.connections++
    this.sockets.add(socket)
    socket.setNoDelay(true)
    socket.on('error', () => {})
    socket.on('close', () => this.sockets.delete(socket))
    let pending: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      while (pending.length >= 9) {
        const length = pending.readInt32BE(5)
        if (pending.length < 9 + length) break
        const version = pending[0]!
        const stream = pending.readInt16BE(2)
        const opcode = pending[4]!
        const body = pending.subarray(9, 9 + length)
        pending = pending.subarray(9 + length)
        this.onFrame(socket, version, stream, opcode, body)
      }
    })
  }

  private onFrame(socket: Socket, version: number, stream: number, opcode: number, body: Buffer): void {
    const reply = (op: number, payload: Buffer) => {
      const header = Buffer.alloc(9)
      header[0] = 0x84
      header.writeInt16BE(stream, 2)
      header[4] = op
      header.writeInt32BE(payload.length, 5)
      if (!socket.destroyed) socket.write(Buffer.concat([header, payload]))
    }
    const error = (code: number, message: string, extra?: (w: CqlWriter) => void) => {
      const w = new CqlWriter().int(code).string(message)
      extra?.(w)
      reply(OPCODE.ERROR, w.toBuffer())
    }
    if (version !== 0x04) {
      error(PROTOCOL_ERROR, `Invalid or unsupported protocol version (${version}); supported versions are (3/v3, 4/v4)`)
      return
    }
    try {
      const reader = new CqlReader(body)
      const { credentials } = this.options
      if (opcode === OPCODE.STARTUP && credentials !== undefined && !this.authenticated.has(socket)) {
        reply(OPCODE.AUTHENTICATE, new CqlWriter().string('org.apache.cassandra.auth.PasswordAuthenticator').toBuffer())
        return
      }
      if (opcode === OPCODE.AUTH_RESPONSE) {
        // SASL PLAIN: authorization id, user name and password, each after a NUL byte
        const [, username = '', password = ''] = (reader.value() as Buffer).toString('utf8').split('\0')
        const accepted = username === credentials?.username && password === credentials.password
        this.logins.push({ username, accepted })
        if (!accepted) return error(BAD_CREDENTIALS, `Provided username ${username} and/or password are incorrect`)
        this.authenticated.add(socket)
        reply(OPCODE.AUTH_SUCCESS, new CqlWriter().int(-1).toBuffer())
        return
      }
      if (credentials !== undefined && !this.authenticated.has(socket) && opcode !== OPCODE.OPTIONS)
        return error(BAD_CREDENTIALS, 'Unauthenticated: log in first')
      switch (opcode) {
        case OPCODE.STARTUP:
        case OPCODE.REGISTER:
          reply(OPCODE.READY, Buffer.alloc(0))
          return
        case OPCODE.OPTIONS:
          reply(
            OPCODE.SUPPORTED,
            new CqlWriter()
              .stringMultimap({ CQL_VERSION: ['3.4.6'], COMPRESSION: [], PROTOCOL_VERSIONS: ['3/v3', '4/v4'] })
              .toBuffer(),
          )
          return
        case OPCODE.QUERY: {
          const query = reader.longString()
          const system = systemRows(query)
          if (system !== undefined) {
            reply(OPCODE.RESULT, system)
            return
          }
          const params = queryParameters(reader)
          const statement = parseStatement(query, this.tables)
          this.request(
            { opcode: 'QUERY', ...params, statements: [{ query, values: [] }] },
            [[statement, params.values]],
            reply,
            error,
          )
          return
        }
        case OPCODE.PREPARE: {
          const query = reader.longString()
          const statement = systemRows(query) === undefined ? parseStatement(query, this.tables) : undefined
          const id = createHash('md5').update(query).digest()
          this.prepared.set(id.toString('hex'), { query, statement })
          reply(OPCODE.RESULT, preparedResult(id, statement))
          return
        }
        case OPCODE.EXECUTE: {
          const id = reader.shortBytes()
          const found = this.prepared.get(id.toString('hex'))
          if (found === undefined) {
            error(0x2500, `Prepared query with ID ${id.toString('hex')} not found`, (w) => w.shortBytes(id))
            return
          }
          const params = queryParameters(reader)
          if (found.statement === undefined) {
            reply(OPCODE.RESULT, systemRows(found.query)!)
            return
          }
          this.request(
            { opcode: 'EXECUTE', ...params, statements: [{ query: found.query, values: [] }] },
            [[found.statement, params.values]],
            reply,
            error,
          )
          return
        }
        case OPCODE.BATCH: {
          const type = reader.byte()
          const runs: Array<[CqlStatement, Array<Buffer | null | typeof UNSET>]> = []
          const statements: Array<{ query: string; values: unknown[] }> = []
          for (let n = reader.short(); n > 0; n--) {
            let query: string
            if (reader.byte() === 0) query = reader.longString()
            else {
              const id = reader.shortBytes()
              const found = this.prepared.get(id.toString('hex'))
              if (found === undefined) {
                error(0x2500, `Prepared query with ID ${id.toString('hex')} not found`, (w) => w.shortBytes(id))
                return
              }
              query = found.query
            }
            const values: Array<Buffer | null | typeof UNSET> = []
            for (let v = reader.short(); v > 0; v--) values.push(reader.value())
            runs.push([parseStatement(query, this.tables), values])
            statements.push({ query, values: [] })
          }
          const consistency = reader.short()
          const flags = reader.byte()
          const serialConsistency = flags & 0x10 ? reader.short() : undefined
          const timestamp = flags & 0x20 ? reader.long() : undefined
          const batchType = (['LOGGED', 'UNLOGGED', 'COUNTER'] as const)[type]
          this.request(
            { opcode: 'BATCH', batchType, statements, consistency, serialConsistency, timestamp },
            runs,
            reply,
            error,
          )
          return
        }
        default:
          error(PROTOCOL_ERROR, `unknown opcode ${opcode}`)
      }
    } catch (e) {
      if (e instanceof CqlStatementError) error(e.code, e.message)
      else error(SERVER_ERROR, `java.lang.RuntimeException: ${(e as Error).message}`)
    }
  }

  /** Keeps a user request, asks `answer`, and runs it or answers the fault. */
  private request(
    request: CqlRequest,
    runs: ReadonlyArray<readonly [CqlStatement, ReadonlyArray<Buffer | null | typeof UNSET>]>,
    reply: (op: number, payload: Buffer) => void,
    error: (code: number, message: string, extra?: (w: CqlWriter) => void) => void,
  ): void {
    runs.forEach(([statement, values], i) => {
      ;(request.statements[i]!.values as unknown[]).push(...values.map((v, m) => decodeMarker(statement, m, v)))
    })
    const n = this.received.length
    this.received.push(request)
    const answer = this.answer(request, n)
    request.answer = answer
    if (answer === 'hang') return
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    const respond = () => {
      this.inFlight--
      this.respond(request, answer, runs, reply, error)
    }
    if (this.delayMs > 0) setTimeout(respond, this.delayMs)
    else respond()
  }

  /** Applies the request and answers its result, or answers the fault. */
  private respond(
    request: CqlRequest,
    answer: Exclude<CqlAnswer, 'hang'>,
    runs: ReadonlyArray<readonly [CqlStatement, ReadonlyArray<Buffer | null | typeof UNSET>]>,
    reply: (op: number, payload: Buffer) => void,
    error: (code: number, message: string, extra?: (w: CqlWriter) => void) => void,
  ): void {
    const cl = request.consistency
    if (answer !== 'apply') {
      if (answer.kind === 'write-timeout' && answer.applied) for (const [s, v] of runs) runStatement(s, v)
      switch (answer.kind) {
        case 'overloaded':
          return error(0x1001, 'Server is in overloaded state. Cannot accept more requests at this point')
        case 'unavailable':
          return error(0x1000, 'Cannot achieve consistency level', (w) =>
            w
              .short(cl)
              .int(answer.required ?? 2)
              .int(answer.alive ?? 1),
          )
        case 'write-timeout':
          return error(0x1100, 'Operation timed out - received only 0 responses.', (w) =>
            w.short(cl).int(0).int(1).string(answer.writeType),
          )
        case 'read-timeout':
          return error(0x1200, 'Operation timed out - received only 0 responses.', (w) =>
            w
              .short(cl)
              .int(0)
              .int(1)
              .byte(answer.dataPresent ? 1 : 0),
          )
        case 'invalid':
          return error(0x2200, answer.message)
      }
    }
    let rows: Array<Record<string, unknown>> = []
    for (const [s, v] of runs) rows = runStatement(s, v)
    const last = runs[runs.length - 1]![0]
    if (last.kind === 'select') reply(OPCODE.RESULT, rowsResult(last, rows))
    else reply(OPCODE.RESULT, new CqlWriter().int(0x0001).toBuffer())
  }
}

function decodeMarker(statement: CqlStatement, marker: number, value: Buffer | null | typeof UNSET): unknown {
  const type = statement.markers[marker]?.type
  if (type === undefined || value === null || typeof value === 'symbol') return value
  return decodeValue(type, value)
}

/** <query_parameters> of QUERY and EXECUTE. */
function queryParameters(reader: CqlReader): {
  consistency: number
  serialConsistency: number | undefined
  timestamp: bigint | undefined
  values: Array<Buffer | null | typeof UNSET>
} {
  const consistency = reader.short()
  const flags = reader.byte()
  const values: Array<Buffer | null | typeof UNSET> = []
  if (flags & 0x01)
    for (let n = reader.short(); n > 0; n--) {
      if (flags & 0x40) reader.string()
      values.push(reader.value())
    }
  if (flags & 0x04) reader.int()
  if (flags & 0x08) reader.value()
  const serialConsistency = flags & 0x10 ? reader.short() : undefined
  const timestamp = flags & 0x20 ? reader.long() : undefined
  return { consistency, serialConsistency, timestamp, values }
}

/** RESULT Prepared: id, bind-marker metadata, result metadata (selects) or none. */
function preparedResult(id: Buffer, statement: CqlStatement | undefined): Buffer {
  const w = new CqlWriter().int(0x0004).shortBytes(id)
  const markers = statement?.markers ?? []
  if (statement === undefined || markers.length === 0) w.int(0).int(0).int(0)
  else {
    w.int(0x0001).int(markers.length).int(0).string(statement.table.keyspace).string(statement.table.name)
    for (const m of markers) w.string(m.column).type(m.type)
  }
  if (statement?.kind === 'select') {
    w.int(0x0001).int(statement.selected.length).string(statement.table.keyspace).string(statement.table.name)
    for (const c of statement.selected) w.string(c).type(statement.table.columns[c]!)
  } else w.int(0x0004).int(0)
  return w.toBuffer()
}

function rowsResult(statement: CqlStatement, rows: ReadonlyArray<Record<string, unknown>>): Buffer {
  const { table, selected } = statement
  const w = new CqlWriter().int(0x0002).int(0x0001).int(selected.length).string(table.keyspace).string(table.name)
  for (const c of selected) w.string(c).type(table.columns[c]!)
  w.int(rows.length)
  for (const row of rows) for (const c of selected) w.bytes(encodeValue(table.columns[c]!, row[c]))
  return w.toBuffer()
}

const LOCAL_COLUMNS: ReadonlyArray<readonly [string, CqlType | 'set<text>', unknown]> = [
  ['key', 'text', 'local'],
  ['bootstrapped', 'text', 'COMPLETED'],
  ['broadcast_address', 'inet', '127.0.0.1'],
  ['cluster_name', 'text', 'sluice test'],
  ['cql_version', 'text', '3.4.6'],
  ['data_center', 'text', 'dc1'],
  ['host_id', 'uuid', HOST_ID],
  ['listen_address', 'inet', '127.0.0.1'],
  ['native_protocol_version', 'text', '4'],
  ['partitioner', 'text', 'org.apache.cassandra.dht.Murmur3Partitioner'],
  ['rack', 'text', 'rack1'],
  ['release_version', 'text', '4.1.10'],
  ['rpc_address', 'inet', '127.0.0.1'],
  ['schema_version', 'uuid', SCHEMA_VERSION],
  ['tokens', 'set<text>', ['0']],
]

/** The rows of the control connection's system queries: one for system.local, none for the others. */
function systemRows(query: string): Buffer | undefined {
  const from = /\bFROM\s+(system\w*)\.(\w+)/i.exec(query)
  if (from === null) return undefined
  const [, keyspace, table] = from as unknown as [string, string, string]
  const w = new CqlWriter().int(0x0002)
  if (keyspace.toLowerCase() === 'system' && table.toLowerCase() === 'local') {
    w.int(0x0001).int(LOCAL_COLUMNS.length).string('system').string('local')
    for (const [name, type] of LOCAL_COLUMNS) w.string(name).type(type)
    w.int(1)
    for (const [, type, value] of LOCAL_COLUMNS) w.bytes(encodeValue(type, value))
  } else w.int(0x0001).int(0).string(keyspace).string(table).int(0)
  return w.toBuffer()
}
