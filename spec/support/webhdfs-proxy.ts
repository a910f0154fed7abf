import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** A fault the proxy applies to the next matching request. */
export type WebHdfsFault =
  /** Answer with a RemoteException, as a NameNode (or HttpFS) does, without forwarding. */
  | { readonly kind: 'answer'; readonly status: number; readonly exception: string; readonly message: string }
  /** Close the connection without an answer, without forwarding. */
  | { readonly kind: 'reset' }
  /** Forward to the DataNode, let it do the work, then close the connection instead of answering. */
  | { readonly kind: 'lose-answer' }
  /** Forward only the first `bytes` bytes of the data to the DataNode (it appends them), then close the connection. */
  | { readonly kind: 'cut-data'; readonly bytes: number }

/**
 * A WebHDFS proxy for the faults a MiniDFSCluster cannot show on demand: it forwards every request to the
 * NameNode, rewrites the NameNode's 307 redirects so the DataNode step comes through it too
 * (`/__datanode/<host:port>/webhdfs/v1/…`), keeps the request lines it saw, and applies a fault to the
 * next request whose operation (and step: 'namenode' or 'datanode') matches.
 *
 * @example
 * const proxy = await WebHdfsProxy.start(hdfs.webHdfsUrl)
 * proxy.inject('APPEND', 'datanode', { kind: 'lose-answer' })
 */
export class WebHdfsProxy {
  /** Every request seen: 'METHOD step path?query'. */
  readonly requests: string[] = []
  private readonly faults: Array<{ op: string; step: 'namenode' | 'datanode'; fault: WebHdfsFault }> = []
  private readonly sockets = new Set<Socket>()

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
  ) {}

  /** Starts a proxy in front of the NameNode at `webHdfsUrl` on a free loopback port. */
  static async start(webHdfsUrl: string): Promise<WebHdfsProxy> {
    let proxy!: WebHdfsProxy
    const server = createServer((req, res) => proxy.handle(req, res))
    proxy = new WebHdfsProxy(server, new URL(webHdfsUrl))
    server.on('connection', (socket) => {
      proxy.sockets.add(socket)
      socket.once('close', () => proxy.sockets.delete(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  /** The proxy's base URL, to give to `webHdfs({ url })`. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  /** Applies `fault` to the next request for `op` at `step`; faults apply in the order injected. */
  inject(op: string, step: 'namenode' | 'datanode', fault: WebHdfsFault): void {
    this.faults.push({ op, step, fault })
  }

  /** Faults injected and not yet applied. */
  get pendingFaults(): number {
    return this.faults.length
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const incoming = new URL(req.url ?? '/', 'http://proxy')
    const datanode = incoming.pathname.match(/^\/__datanode\/([^/]+)(\/.*)$/)
    const step = datanode === null ? 'namenode' : 'datanode'
    const host = datanode === null ? this.target.host : datanode[1]!
    const path = `${datanode === null ? incoming.pathname : datanode[2]!}${incoming.search}`
    const op = incoming.searchParams.get('op') ?? ''
    this.requests.push(`${req.method} ${step} ${path}`)
    const index = this.faults.findIndex((f) => f.op === op && f.step === step)
    const fault = index < 0 ? undefined : this.faults.splice(index, 1)[0]!.fault
    if (fault?.kind === 'reset') {
      req.socket.destroy()
      return
    }
    if (fault?.kind === 'answer') {
      res.writeHead(fault.status, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          RemoteException: {
            exception: fault.exception,
            javaClassName: `x.${fault.exception}`,
            message: fault.message,
          },
        }),
      )
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      let body = Buffer.concat(chunks)
      if (fault?.kind === 'cut-data') body = body.subarray(0, fault.bytes)
      const headers = { ...req.headers, host, 'content-length': String(body.byteLength) }
      const [hostname, port] = host.split(':')
      const forward = request({ hostname, port: Number(port), method: req.method, path, headers }, (answer) => {
        const answerChunks: Buffer[] = []
        answer.on('data', (chunk: Buffer) => answerChunks.push(chunk))
        answer.on('end', () => {
          if (fault !== undefined) {
            req.socket.destroy()
            return
          }
          const location = answer.headers.location
          const rewritten = { ...answer.headers }
          if (location !== undefined) {
            const to = new URL(location)
            rewritten.location = `${this.url}/__datanode/${to.host}${to.pathname}${to.search}`
          }
          res.writeHead(answer.statusCode ?? 502, rewritten)
          res.end(Buffer.concat(answerChunks))
        })
      })
      forward.on('error', () => req.socket.destroy())
      forward.end(body)
    })
  }
}
