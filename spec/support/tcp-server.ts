import { createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP server on 127.0.0.1 for connector tests: a fresh port (0), every connection handed to
 * `onConnection`, everything a client sends collected in `received`, and the means to drop all
 * connections, stop listening, and listen again on the same port (a server that goes away and comes back).
 *
 * @example
 * const server = await TestTcpServer.start((socket) => socket.end('a\nb\n'))
 * const source = new SocketTextSource('127.0.0.1', server.port)
 * await server.stop()
 */
export class TestTcpServer {
  readonly sockets = new Set<Socket>()
  /** Everything clients sent, decoded as UTF-8, in arrival order. */
  received = ''
  /** How many connections were accepted. */
  connections = 0
  private server: Server | undefined

  private constructor(
    private readonly onConnection: (socket: Socket) => void,
    public port: number,
  ) {}

  static async start(onConnection: (socket: Socket) => void = () => {}): Promise<TestTcpServer> {
    const server = new TestTcpServer(onConnection, 0)
    await server.listen()
    return server
  }

  /** Listens (again) on the port; the first call picks a free one. */
  async listen(): Promise<void> {
    const server = createServer((socket) => {
      this.connections++
      this.sockets.add(socket)
      socket.setEncoding('utf8')
      socket.on('data', (text: string) => {
        this.received += text
      })
      socket.on('error', () => {})
      socket.on('close', () => this.sockets.delete(socket))
      this.onConnection(socket)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as { port: number }).port
    this.server = server
  }

  /** Resets every open connection (the client sees ECONNRESET or a close). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy()
  }

  /** Drops the connections and stops listening; `listen()` brings the server back on the same port. */
  async stop(): Promise<void> {
    this.dropConnections()
    const server = this.server
    this.server = undefined
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
