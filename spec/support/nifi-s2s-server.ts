import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import { crc32 } from 'node:zlib'
import { decodeFlowFiles, encodeFlowFiles, type FlowFile } from '../../lib/connectors/nifi/flowfile-codec.js'
import { passValue, replayedTest } from './worker-pass/pass-context.js'

/** A fault the server injects into its next matching request (after `skip` matching ones passed). */
export type NiFiFault = { readonly skip?: number } /** Answer 503 with NiFi's error entity. */ & (
  | { kind: 'http-503'; on: 'begin' | 'flow-files' | 'commit' | 'extend' | 'any' }
  /** Destroy the socket without an answer. */
  | { kind: 'drop-connection'; on: 'begin' | 'flow-files' | 'commit' | 'any' }
  /** Output port: append a FlowFile whose attribute length runs past the body. */
  | { kind: 'corrupt-flowfile' }
  /** Input port: answer a checksum off by one. */
  | { kind: 'bad-checksum' }
  /** Expire the transaction as soon as it has its data (as if its TTL passed). */
  | { kind: 'expire-transaction' }
)

/** The server side of NiFi's secure site-to-site: its key and certificate, and the CAs of client certificates. */
export interface NiFiServerTls {
  readonly key: Buffer
  readonly cert: Buffer
  /** When set, a client must present a certificate signed by one of these (NiFi's `needClientAuth`). */
  readonly ca?: Buffer
}

interface Transaction {
  readonly id: string
  readonly port: Port
  readonly node: NiFiNode
  flowFiles: FlowFile[]
  checksum: string | undefined
  expiresAt: number
  timer: NodeJS.Timeout | undefined
  ended: boolean
}

interface Port {
  readonly id: string
  readonly name: string
  readonly kind: 'input' | 'output'
  /** Output port: the queue NiFi hands out. */
  readonly queue: FlowFile[]
  /** Input port: the FlowFiles of committed transactions, in commit order. */
  readonly received: FlowFile[]
}

/** What the server saw, for assertions. */
export interface NiFiServerCounts {
  transactionsBegun: number
  transactionsCommitted: number
  transactionsCancelled: number
  transactionsExpired: number
  ttlExtensions: number
  badChecksums: number
  faultsInjected: number
  requestsByNode: number[]
}

const PROTOCOL_VERSION = 'x-nifi-site-to-site-protocol-version'
const TTL_HEADER = 'x-nifi-site-to-site-server-transaction-ttl'

/**
 * A NiFi cluster for the NiFi connector's tests, speaking NiFi's HTTP site-to-site protocol as NiFi's
 * DataTransferResource and SiteToSiteResource do: `GET /nifi-api/site-to-site` (controller with input
 * and output ports), `GET /nifi-api/site-to-site/peers`, `POST …/data-transfer/{input,output}-ports/
 * {id}/transactions` (201, Location + x-location-uri-intent, protocol version and transaction TTL
 * headers), `POST …/flow-files` (input: 202 with the CRC32 of the body), `GET …/flow-files` (output:
 * 202 with FlowFiles in StandardFlowFileCodec framing, 200 when there are none), `PUT` (extend TTL),
 * `DELETE ?responseCode=12[&checksum=]` (commit: 13 for an input port, 12 for an output port after the
 * checksum matched, 19 + 400 when not), `DELETE ?responseCode=15` (cancel). A transaction not ended
 * within its TTL expires: an input port's FlowFiles are dropped, an output port's go back to the head
 * of the queue. Requests without the protocol version header get 400. Several nodes share the ports.
 *
 * Keeps what it received (`received(port)`), hands out what is queued (`enqueue`), injects faults.
 *
 * @example
 * const nifi = await NiFiTestCluster.start({ nodes: 2, inputPorts: ['in'], outputPorts: ['out'] })
 * nifi.enqueue('out', [{ attributes: { uuid: 'u1' }, content: Buffer.from('x') }])
 * await nifi.stop()
 */
export class NiFiTestCluster {
  readonly nodes: NiFiNode[] = []
  readonly ports = new Map<string, Port>()
  readonly counts: NiFiServerCounts = {
    transactionsBegun: 0,
    transactionsCommitted: 0,
    transactionsCancelled: 0,
    transactionsExpired: 0,
    ttlExtensions: 0,
    badChecksums: 0,
    faultsInjected: 0,
    requestsByNode: [],
  }
  readonly transactions = new Map<string, Transaction>()
  private readonly faults: Array<{ fault: NiFiFault; skip: number }> = []
  /** When set, every request must carry `Authorization: Bearer <token>`, else 401 (NiFi's JWT check). */
  token: string | undefined
  /** Largest number of FlowFiles an output transaction hands out when the client sends no batch count. */
  maxBatch = 500

  private constructor(
    readonly ttlSeconds: number,
    /** TTL of input-port transactions, when a test needs it longer than a job restart. */
    readonly inputTtlSeconds: number,
    /** HTTPS (NiFi's secure site-to-site) with this key and certificate; `ca`: client certificates required. */
    readonly tls: NiFiServerTls | undefined,
  ) {}

  /** `https` when the cluster serves TLS. */
  get scheme(): 'http' | 'https' {
    return this.tls === undefined ? 'http' : 'https'
  }

  static async start(options: {
    nodes?: number
    inputPorts?: string[]
    outputPorts?: string[]
    ttlSeconds?: number
    inputTtlSeconds?: number
    tls?: NiFiServerTls
  }): Promise<NiFiTestCluster> {
    const cluster = new NiFiTestCluster(
      options.ttlSeconds ?? 30,
      options.inputTtlSeconds ?? options.ttlSeconds ?? 30,
      options.tls,
    )
    for (const name of options.inputPorts ?? []) cluster.addPort(name, 'input')
    for (const name of options.outputPorts ?? []) cluster.addPort(name, 'output')
    // the nodes' ports: a worker of the worker-executor test pass replaying a test gets the coordinator's
    const count = options.nodes ?? 1
    const ports = new Int32Array(passValue(() => new SharedArrayBuffer(4 * count)))
    for (let i = 0; i < count; i++) {
      const node = new NiFiNode(cluster, i)
      if (replayedTest() !== undefined) node.standIn(Atomics.load(ports, i))
      else {
        await node.listen()
        Atomics.store(ports, i, node.port)
      }
      cluster.nodes.push(node)
      cluster.counts.requestsByNode.push(0)
    }
    return cluster
  }

  /** The URL to configure a client with (the first node's). */
  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.nodes[0]!.port}/nifi`
  }

  /** The port of that name. */
  port(name: string): Port {
    const port = [...this.ports.values()].find((p) => p.name === name)
    if (port === undefined) throw new Error(`no port ${name}`)
    return port
  }

  /** Queues FlowFiles on an output port; each gets a `uuid` attribute unless it has one. */
  enqueue(portName: string, flowFiles: FlowFile[]): void {
    const port = this.port(portName)
    for (const f of flowFiles)
      port.queue.push(
        f.attributes.uuid === undefined ? { ...f, attributes: { ...f.attributes, uuid: randomUUID() } } : f,
      )
  }

  /** The FlowFiles committed to an input port. */
  received(portName: string): FlowFile[] {
    return this.port(portName).received
  }

  /** FlowFiles of an output port neither handed out nor in an open transaction. */
  queued(portName: string): number {
    return this.port(portName).queue.length
  }

  /**
   * Counts per port (FlowFiles received by input ports, queued on output ports) and open transactions;
   * also served at `GET /test/state` (not NiFi's: for a job process that must know when it is done).
   */
  state(): { received: Record<string, number>; queued: Record<string, number>; openTransactions: number } {
    const ports = [...this.ports.values()]
    return {
      received: Object.fromEntries(ports.filter((p) => p.kind === 'input').map((p) => [p.name, p.received.length])),
      queued: Object.fromEntries(ports.filter((p) => p.kind === 'output').map((p) => [p.name, p.queue.length])),
      openTransactions: this.openTransactions,
    }
  }

  /** Transactions not yet ended. */
  get openTransactions(): number {
    return [...this.transactions.values()].filter((t) => !t.ended).length
  }

  /** Injects faults into the next matching requests, in order. */
  inject(...faults: NiFiFault[]): void {
    this.faults.push(...faults.map((fault) => ({ fault, skip: fault.skip ?? 0 })))
  }

  /** Expires every open transaction now, as if their TTL had passed. */
  expireAll(): void {
    for (const tx of this.transactions.values()) if (!tx.ended) this.expire(tx)
  }

  async stop(): Promise<void> {
    for (const tx of this.transactions.values()) clearTimeout(tx.timer)
    await Promise.all(this.nodes.map((n) => n.close()))
  }

  /** The first injected fault of that kind (for that request), taken off the list once its skips are used. */
  takeFault(match: (f: NiFiFault) => boolean): NiFiFault | undefined {
    const i = this.faults.findIndex((f) => match(f.fault))
    if (i < 0) return undefined
    if (this.faults[i]!.skip-- > 0) return undefined
    this.counts.faultsInjected++
    return this.faults.splice(i, 1)[0]!.fault
  }

  /** Injected faults that have not fired yet. */
  get faultsLeft(): number {
    return this.faults.length
  }

  begin(port: Port, node: NiFiNode): Transaction {
    const tx: Transaction = {
      id: randomUUID(),
      port,
      node,
      flowFiles: [],
      checksum: undefined,
      expiresAt: 0,
      timer: undefined,
      ended: false,
    }
    this.transactions.set(tx.id, tx)
    this.counts.transactionsBegun++
    this.extend(tx)
    return tx
  }

  extend(tx: Transaction): void {
    clearTimeout(tx.timer)
    const ttl = this.ttlOf(tx.port) * 1000
    tx.expiresAt = Date.now() + ttl
    tx.timer = setTimeout(() => this.expire(tx), ttl)
    tx.timer.unref()
  }

  /** The transaction TTL of a port, in seconds. */
  ttlOf(port: Port): number {
    return port.kind === 'input' ? this.inputTtlSeconds : this.ttlSeconds
  }

  expire(tx: Transaction): void {
    if (tx.ended) return
    this.counts.transactionsExpired++
    this.end(tx, 'rollback')
  }

  end(tx: Transaction, how: 'commit' | 'rollback'): void {
    tx.ended = true
    clearTimeout(tx.timer)
    if (how === 'commit') {
      this.counts.transactionsCommitted++
      if (tx.port.kind === 'input') tx.port.received.push(...tx.flowFiles)
    } else if (tx.port.kind === 'output') tx.port.queue.unshift(...tx.flowFiles)
    this.transactions.delete(tx.id)
  }

  private addPort(name: string, kind: 'input' | 'output'): void {
    const id = randomUUID()
    this.ports.set(id, { id, name, kind, queue: [], received: [] })
  }
}

/**
 * One node of a {@link NiFiTestCluster}: its own HTTP listener on 127.0.0.1. In a worker of the
 * worker-executor test pass replaying a test, a stand-in for the coordinator's node on the same port,
 * which never listens (the cluster, its queues and what it received are the coordinator's).
 */
export class NiFiNode {
  port = 0
  private server: Server | undefined
  private coordinators = false
  private readonly sockets = new Set<Socket>()

  constructor(
    private readonly cluster: NiFiTestCluster,
    readonly index: number,
  ) {}

  /** Makes this node the stand-in for the coordinator's node on `port`: it never listens. */
  standIn(port: number): void {
    this.port = port
    this.coordinators = true
  }

  /** Listens (again) on its port; the first call picks a free one. */
  async listen(): Promise<void> {
    if (this.coordinators) return
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) json(res, 500, { responseCode: 250, message: String(e) })
      })
    }
    const tls = this.cluster.tls
    const server: Server =
      tls === undefined
        ? createServer(handler)
        : createHttpsServer(
            { key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: tls.ca !== undefined, rejectUnauthorized: true },
            handler,
          )
    server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as { port: number }).port
    this.server = server
  }

  /** Stops listening and drops every connection (a node that died); `listen()` brings it back. */
  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const s of this.sockets) s.destroy()
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const c = this.cluster
    c.counts.requestsByNode[this.index]!++
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`)
    const body = await readBody(req)
    const path = url.pathname
    if (req.method === 'GET' && path === '/test/state') return json(res, 200, this.cluster.state())
    if (c.token !== undefined && req.headers.authorization !== `Bearer ${c.token}`)
      return text(res, 401, 'Unable to validate the access token.')
    const version = req.headers[PROTOCOL_VERSION]
    if (version === undefined)
      return json(res, 400, { responseCode: 250, message: 'Protocol version was not specified.' })
    if (version !== '1')
      return json(res, 400, { responseCode: 250, message: `Specified protocol version is not supported: ${version}` })

    if (req.method === 'GET' && path === '/nifi-api/site-to-site') return this.controller(res)
    if (req.method === 'GET' && path === '/nifi-api/site-to-site/peers') return this.peers(res)

    const m =
      /^\/nifi-api\/data-transfer\/(input|output)-ports\/([^/]+)\/transactions(?:\/([^/]+)(\/flow-files)?)?$/.exec(path)
    if (m === null) return json(res, 404, { responseCode: 250, message: 'not found' })
    const [, kind, portId, txId, flowFiles] = m
    const port = c.ports.get(portId!)
    if (port === undefined || port.kind !== kind)
      return json(res, 404, { responseCode: 200, message: `Unknown port ${portId}` })

    const on =
      txId === undefined ? 'begin' : flowFiles !== undefined ? 'flow-files' : req.method === 'PUT' ? 'extend' : 'commit'
    const fault = c.takeFault((f) => 'on' in f && (f.on === on || f.on === 'any'))
    if (fault?.kind === 'http-503')
      return json(res, 503, { responseCode: 250, message: 'NiFi instance is temporarily overloaded' })
    if (fault?.kind === 'drop-connection') {
      req.socket.destroy()
      return
    }

    if (txId === undefined) {
      if (req.method !== 'POST') return json(res, 405, { responseCode: 250, message: 'method not allowed' })
      const tx = c.begin(port, this)
      const location = `${c.scheme}://127.0.0.1:${this.port}/nifi-api/data-transfer/${kind}-ports/${port.id}/transactions/${tx.id}`
      res.writeHead(201, {
        location,
        'x-location-uri-intent': 'transaction-url',
        [PROTOCOL_VERSION]: '1',
        [TTL_HEADER]: String(c.ttlOf(port)),
        'content-type': 'application/json',
      })
      res.end(JSON.stringify({ flowFileSent: 0, responseCode: 1, message: `A transaction is created:${tx.id}` }))
      return
    }

    const tx = c.transactions.get(txId)
    if (tx === undefined || tx.port !== port || tx.ended)
      return json(res, 404, { flowFileSent: 0, responseCode: 250, message: 'Transaction was not found.' })

    if (flowFiles !== undefined && req.method === 'POST' && kind === 'input') {
      const decoded = decodeFlowFiles(body)
      if (decoded.error !== undefined) return json(res, 400, { responseCode: 250, message: decoded.error })
      if (decoded.flowFiles.length === 0)
        return text(res, 400, 'Client should send request when there is data to send. There was no flow file sent.')
      tx.flowFiles = decoded.flowFiles
      tx.checksum = String(crc32(body))
      const answer = c.takeFault((f) => f.kind === 'bad-checksum') ? String(crc32(body) + 1) : tx.checksum
      if (c.takeFault((f) => f.kind === 'expire-transaction')) c.expire(tx)
      res.writeHead(202, { [PROTOCOL_VERSION]: '1', [TTL_HEADER]: String(c.ttlOf(port)), 'content-type': 'text/plain' })
      res.end(answer)
      return
    }

    if (flowFiles !== undefined && req.method === 'GET' && kind === 'output') {
      const limit = Number(req.headers['x-nifi-site-to-site-batch-count'] ?? c.maxBatch)
      const sizeLimit = Number(req.headers['x-nifi-site-to-site-batch-size'] ?? Number.POSITIVE_INFINITY)
      let bytes = 0
      let n = 0
      while (
        n < Math.min(limit, port.queue.length) &&
        (n === 0 || bytes + port.queue[n]!.content.length <= sizeLimit)
      ) {
        bytes += port.queue[n]!.content.length
        n++
      }
      if (n === 0) {
        c.end(tx, 'rollback')
        res.writeHead(200, { [PROTOCOL_VERSION]: '1' })
        res.end()
        return
      }
      tx.flowFiles = port.queue.splice(0, n)
      let data = encodeFlowFiles(tx.flowFiles)
      if (c.takeFault((f) => f.kind === 'corrupt-flowfile')) {
        const bad = Buffer.alloc(12)
        bad.writeInt32BE(1, 0)
        bad.writeInt32BE(1_000_000, 4)
        data = Buffer.concat([data, bad])
      }
      tx.checksum = String(crc32(data))
      if (c.takeFault((f) => f.kind === 'expire-transaction')) c.expire(tx)
      res.writeHead(202, {
        [PROTOCOL_VERSION]: '1',
        [TTL_HEADER]: String(c.ttlOf(port)),
        'content-type': 'application/octet-stream',
      })
      res.end(data)
      return
    }

    if (req.method === 'PUT') {
      c.extend(tx)
      c.counts.ttlExtensions++
      res.writeHead(200, {
        [PROTOCOL_VERSION]: '1',
        [TTL_HEADER]: String(c.ttlOf(port)),
        'content-type': 'application/json',
      })
      res.end(JSON.stringify({ flowFileSent: 0, responseCode: 10, message: 'Extended TTL.' }))
      return
    }

    if (req.method === 'DELETE') {
      const code = Number(url.searchParams.get('responseCode'))
      if (code === 15) {
        c.counts.transactionsCancelled++
        c.end(tx, 'rollback')
        return json(res, 200, { flowFileSent: 0, responseCode: 15, message: 'Transaction has been canceled.' })
      }
      if (kind === 'input') {
        if (code === 19) {
          c.counts.badChecksums++
          c.end(tx, 'rollback')
          return json(res, 200, { flowFileSent: 0, responseCode: 15, message: 'canceled after bad checksum' })
        }
        if (code !== 12 || tx.checksum === undefined)
          return json(res, 400, { flowFileSent: 0, responseCode: 250, message: `responseCode ${code} is invalid. ` })
        c.end(tx, 'commit')
        return json(res, 200, { flowFileSent: tx.flowFiles.length, responseCode: 13 }, true)
      }
      if (code !== 12)
        return json(res, 400, { flowFileSent: 0, responseCode: 250, message: `responseCode ${code} is invalid. ` })
      if (url.searchParams.get('checksum') !== tx.checksum) {
        c.counts.badChecksums++
        c.end(tx, 'rollback')
        return json(res, 400, { flowFileSent: 0, responseCode: 19, message: 'Received a BadChecksum response' })
      }
      c.end(tx, 'commit')
      return json(res, 200, { flowFileSent: tx.flowFiles.length, responseCode: 12 }, true)
    }
    return json(res, 405, { responseCode: 250, message: 'method not allowed' })
  }

  private controller(res: ServerResponse): void {
    const ports = [...this.cluster.ports.values()]
    const dto = (p: Port) => ({
      id: p.id,
      name: p.name,
      comments: '',
      state: 'RUNNING',
      type: p.kind === 'input' ? 'INPUT_PORT' : 'OUTPUT_PORT',
    })
    const controller = {
      id: 'root',
      name: 'sluice test NiFi',
      comments: '',
      runningCount: ports.length,
      inputPortCount: ports.filter((p) => p.kind === 'input').length,
      outputPortCount: ports.filter((p) => p.kind === 'output').length,
      remoteSiteListeningPort: null,
      remoteSiteHttpListeningPort: this.port,
      siteToSiteSecure: this.cluster.tls !== undefined,
      instanceId: 'sluice-test',
      inputPorts: ports.filter((p) => p.kind === 'input').map(dto),
      outputPorts: ports.filter((p) => p.kind === 'output').map(dto),
    }
    json(res, 200, { controller })
  }

  private peers(res: ServerResponse): void {
    const peers = this.cluster.nodes
      .filter((n) => n.server !== undefined)
      .map((n) => ({ hostname: '127.0.0.1', port: n.port, secure: this.cluster.tls !== undefined, flowFileCount: 0 }))
    json(res, 200, { peers })
  }
}

function json(res: ServerResponse, status: number, entity: unknown, common = false): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (common) headers[PROTOCOL_VERSION] = '1'
  res.writeHead(status, headers)
  res.end(JSON.stringify(entity))
}

function text(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' })
  res.end(message)
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
